/**
 * A bank as a transaction participant: an SQS-triggered Lambda with partial batch responses. One
 * function per bank; it plays every leg role (debit, credit) of both transfer definitions.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { readEnv, required } from '../adapters/env';
import { Participant, sqsBatchHandler } from '../adapters/tx/participant';
import { Bank, type TransferLeg } from '../bank/bank';
import { TRANSFER_DEFINITIONS } from '../bank/transfer';

const env = readEnv({
  CONCORD_BANK_NAME: required,
  CONCORD_BANK_TABLE: required,
  CONCORD_COORDINATOR_TABLE: required,
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

export const handler = sqsBatchHandler(participant);
