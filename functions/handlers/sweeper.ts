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
import type { RegisteredStateMachine } from '../adapters/tx/coordinator';
import { Sweeper } from '../adapters/tx/sweeper';
import { transferDefinition } from '../bank/transfer';
import { bytesToBase64Url } from '../core/encoding';

const env = readEnv({
  CONCORD_COORDINATOR_TABLE: required,
  CONCORD_STATE_MACHINES: json(z.record(z.string(), required)),
});

const definitions = [transferDefinition('2pc'), transferDefinition('saga')];
const stateMachines: Record<string, RegisteredStateMachine> = {};
for (const definition of definitions) {
  const arn = env.CONCORD_STATE_MACHINES[definition.name];
  if (arn) stateMachines[definition.name] = { definition, stateMachineArn: arn };
}

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
