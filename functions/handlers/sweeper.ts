/**
 * The sweeper, on a schedule: one instance acts at a time (leader lease with a fencing token) and
 * recovers transactions past their deadline. Participants' in-doubt records are resolved by the
 * recovery runs it starts; see docs/transactions.md. The transaction types come from the
 * environment the TransactionCoordinator construct sets: their definitions and state machines.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { registerStateMachines, Sweeper } from 'concord-aws/tx';
import { z } from 'zod';
import { cryptoEntropy } from '../adapters/system.js';
import { json, readEnv, required } from '../config/env.js';
import { EnvVar } from '../config/variables.js';
import { bytesToBase64Url } from '../core/encoding.js';
import { transactionDefinitionsSchema } from '../core/tx/definition.js';

const env = readEnv({
  [EnvVar.CoordinatorTable]: required,
  [EnvVar.StateMachines]: json(z.record(z.string(), required)),
  [EnvVar.TransactionDefinitions]: json(transactionDefinitionsSchema),
});

// Every type must be registered: a type the sweeper skipped would never be recovered.
const stateMachines = registerStateMachines(env[EnvVar.TransactionDefinitions], env[EnvVar.StateMachines]);

// One identity per Lambda container: a warm container renews its own lease.
const sweeper = new Sweeper({
  dynamodb: new DynamoDBClient({}),
  sfn: new SFNClient({}),
  tableName: env[EnvVar.CoordinatorTable],
  stateMachines,
  holder: `sweeper-${bytesToBase64Url(cryptoEntropy.bytes(9))}`,
  leaseTtlMs: 90_000,
});

export const handler = async (): Promise<{ leader: boolean; recovered: number; fencedOut: number }> => {
  const result = await sweeper.tick();
  console.log(JSON.stringify({ message: 'sweep', ...result }));
  return { leader: result.leader, recovered: result.recovered.length, fencedOut: result.fencedOut };
};
