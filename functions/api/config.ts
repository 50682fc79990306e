/** The API's environment, read once at cold start (adapters/env.ts says how a bad one is reported). */
import { z } from 'zod';
import { json, object, optional, readEnv, required } from '../adapters/env';
import { BANK_NAMES, type BankName, TRANSFER_DEFINITIONS } from '../bank/transfer';

const bankEnv = object({ table: required, queueUrl: z.url({ error: (issue) => (issue.input === undefined ? 'is not set' : undefined) }) });

const apiEnv = {
  CONCORD_QUEUE_TABLE: required,
  /** Optional: without it, bodies over the DynamoDB item budget are refused (413). */
  CONCORD_CLAIM_CHECK_BUCKET: optional,
  CONCORD_COORDINATOR_TABLE: required,
  /** State machine ARNs by transaction type (every name of TRANSFER_DEFINITIONS). */
  CONCORD_STATE_MACHINES: json(object(Object.fromEntries(TRANSFER_DEFINITIONS.map((d) => [d.name, required])))),
  CONCORD_BANKS: json(object(Object.fromEntries(BANK_NAMES.map((name) => [name, bankEnv])) as Record<BankName, typeof bankEnv>)),
  /** Optional: the queue that receives "account opened" events through the transactional outbox. */
  CONCORD_OUTBOX_QUEUE: optional,
};

export type ApiConfig = ReturnType<typeof loadApiConfig>;

export const loadApiConfig = (env: Readonly<Record<string, string | undefined>> = process.env) => readEnv(apiEnv, env);
