/**
 * A bank as a transaction participant: an SQS-triggered Lambda with partial batch responses, also
 * invoked on a schedule to settle in-doubt transactions (T3). One function per bank; it plays every
 * leg role (debit, credit) of both transfer definitions.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { optionalSeconds, readEnv, required } from '../adapters/env';
import { Participant, participantLambdaHandler } from '../adapters/tx/participant';
import { Bank, type TransferLeg } from '../bank/bank';
import { TRANSFER_DEFINITIONS } from '../bank/transfer';

const env = readEnv({
  CONCORD_BANK_NAME: required,
  CONCORD_BANK_TABLE: required,
  CONCORD_COORDINATOR_TABLE: required,
  /** Held PREPARED this long, a transaction is settled from the decision record (T3). */
  CONCORD_IN_DOUBT_AFTER_SECONDS: optionalSeconds,
});

const dynamodb = new DynamoDBClient({});
const bank = new Bank(env.CONCORD_BANK_NAME, dynamodb, env.CONCORD_BANK_TABLE);
const roles = new Set(TRANSFER_DEFINITIONS.flatMap((d) => d.participants.map((p) => p.name)));
const handlers = bank.handlers();

export const participant = new Participant<TransferLeg>({
  dynamodb,
  tableName: env.CONCORD_BANK_TABLE,
  sfn: new SFNClient({}),
  coordinatorTable: env.CONCORD_COORDINATOR_TABLE,
  handlers: Object.fromEntries([...roles].map((role) => [role, handlers])),
});

export const handler = participantLambdaHandler(participant, {
  inDoubtAfterMs: (env.CONCORD_IN_DOUBT_AFTER_SECONDS ?? 300) * 1000,
});
