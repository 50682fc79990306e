/**
 * The sweeper, on a schedule: one instance acts at a time (leader lease with a fencing token) and
 * recovers transactions past their deadline. Participants' in-doubt records are resolved by the
 * recovery runs it starts; see docs/transactions.md.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { json, readEnv, required } from '../adapters/env';
import { cryptoEntropy } from '../adapters/system';
import { registerStateMachines } from '../adapters/tx/coordinator';
import { Sweeper } from '../adapters/tx/sweeper';
import { TRANSFER_DEFINITIONS } from '../bank/transfer';
import { bytesToBase64Url } from '../core/encoding';

const env = readEnv({
  CONCORD_COORDINATOR_TABLE: required,
  CONCORD_STATE_MACHINES: json(z.record(z.string(), required)),
});

// Every type must be registered: a type the sweeper skipped would never be recovered.
const stateMachines = registerStateMachines(TRANSFER_DEFINITIONS, env.CONCORD_STATE_MACHINES);

// One identity per Lambda container: a warm container renews its own lease.
const sweeper = new Sweeper({
  dynamodb: new DynamoDBClient({}),
  sfn: new SFNClient({}),
  tableName: env.CONCORD_COORDINATOR_TABLE,
  stateMachines,
  holder: `sweeper-${bytesToBase64Url(cryptoEntropy.bytes(9))}`,
  leaseTtlMs: 90_000,
});

export const handler = async (): Promise<{ leader: boolean; recovered: number; fencedOut: number }> => {
  const result = await sweeper.tick();
  console.log(JSON.stringify({ message: 'sweep', ...result }));
  return { leader: result.leader, recovered: result.recovered.length, fencedOut: result.fencedOut };
};
