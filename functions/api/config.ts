/** The API's environment, read once at cold start (config/env.ts says how a bad one is reported). */
import { z } from 'zod';
import { BANK_NAMES, type BankName, TRANSFER_DEFINITIONS } from '../bank/transfer.js';
import { json, object, optional, readEnv, required } from '../config/env.js';
import { EnvVar } from '../config/variables.js';

const bankEnv = object({
  table: required,
  queueUrl: z.url({ error: (issue) => (issue.input === undefined ? 'is not set' : undefined) }),
  /** The bank's participant Lambda, which the express state machines invoke. */
  functionName: required,
});

const apiEnv = {
  [EnvVar.QueueTable]: required,
  /** Optional: without it, bodies over the DynamoDB item budget are refused (413). */
  [EnvVar.ClaimCheckBucket]: optional,
  [EnvVar.CoordinatorTable]: required,
  /** State machine ARNs by transaction type (every name of TRANSFER_DEFINITIONS). */
  [EnvVar.StateMachines]: json(object(Object.fromEntries(TRANSFER_DEFINITIONS.map((d) => [d.name, required])))),
  [EnvVar.Banks]: json(object(Object.fromEntries(BANK_NAMES.map((name) => [name, bankEnv])) as Record<BankName, typeof bankEnv>)),
  /** Optional: the queue that receives "account opened" events through the transactional outbox. */
  [EnvVar.OutboxQueue]: optional,
};

export type ApiConfig = ReturnType<typeof loadApiConfig>;

export const loadApiConfig = (env: Readonly<Record<string, string | undefined>> = process.env) => readEnv(apiEnv, env);
