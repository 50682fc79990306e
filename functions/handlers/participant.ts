/**
 * A bank as a transaction participant, for both engines: an SQS-triggered Lambda with partial
 * batch responses (standard), invoked directly by the express state machines, and invoked on a
 * schedule to settle in-doubt transactions (T3). One function per bank; it plays every leg role
 * (debit, credit) of every transfer definition.
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { Participant, participantLambdaHandler } from 'concord-aws/tx';
import { Bank, type TransferLeg } from '../bank/bank.js';
import { TRANSFER_DEFINITIONS } from '../bank/transfer.js';
import { optionalSeconds, readEnv, required } from '../config/env.js';
import { EnvVar } from '../config/variables.js';

const env = readEnv({
  [EnvVar.BankName]: required,
  [EnvVar.BankTable]: required,
  [EnvVar.CoordinatorTable]: required,
  /** Held PREPARED this long, a transaction is settled from the decision record (T3). */
  [EnvVar.InDoubtAfterSeconds]: optionalSeconds,
});

const dynamodb = new DynamoDBClient({});
const bank = new Bank(env[EnvVar.BankName], dynamodb, env[EnvVar.BankTable]);
const roles = new Set(TRANSFER_DEFINITIONS.flatMap((d) => d.participants.map((p) => p.name)));
const handlers = bank.handlers();

export const participant = new Participant<TransferLeg>({
  dynamodb,
  tableName: env[EnvVar.BankTable],
  sfn: new SFNClient({}),
  coordinatorTable: env[EnvVar.CoordinatorTable],
  handlers: Object.fromEntries([...roles].map((role) => [role, handlers])),
});

export const handler = participantLambdaHandler(participant, {
  inDoubtAfterMs: (env[EnvVar.InDoubtAfterSeconds] ?? 300) * 1000,
});
