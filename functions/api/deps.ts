/** The production ports, built from the configuration (lambda.ts at cold start, server.ts at launch). */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { ContentType, createQueueService } from 'concord-aws/queue';
import { Coordinator, Participant, registerStateMachines, Sweeper, TxEngine, TxMode } from 'concord-aws/tx';
import { Bank, type TransferLeg } from '../bank/bank.js';
import { TRANSFER_DEFINITIONS } from '../bank/transfer.js';
import type { ApiConfig } from './config.js';
import type { ApiDeps, BankDeps } from './ports.js';
import { BANK_NAMES, type BankName } from './schemas.js';

export interface AwsClients {
  readonly dynamodb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly s3: S3Client;
}

export function awsClients(env: Readonly<Record<string, string | undefined>> = process.env): AwsClients {
  return { dynamodb: new DynamoDBClient({}), sfn: new SFNClient(sfnClientConfig(env)), s3: new S3Client({}) };
}

/**
 * StartSyncExecution is served by `sync-states.<region>.amazonaws.com`: the SDK prepends `sync-`
 * to the endpoint's host. With an endpoint of one's own (AWS_ENDPOINT_URL: a local emulator), that
 * host does not exist, so the prefix is left off. On AWS the variable is unset: nothing changes.
 */
export function sfnClientConfig(env: Readonly<Record<string, string | undefined>>): { disableHostPrefix?: boolean } {
  return env.AWS_ENDPOINT_URL ? { disableHostPrefix: true } : {};
}

/** The election role of operators' retries (the sweeper's is `sweeper`). */
export const OPERATOR_ROLE = 'operator-retry';

export function buildApiDeps(config: ApiConfig, clients: AwsClients = awsClients()): ApiDeps {
  // The configuration schema requires an ARN for every TRANSFER_DEFINITIONS name.
  const stateMachines = registerStateMachines(TRANSFER_DEFINITIONS, config.CONCORD_STATE_MACHINES);
  const typeOf = (engine: TxEngine, mode: TxMode): string => {
    const definition = TRANSFER_DEFINITIONS.find((d) => d.engine === engine && d.mode === mode);
    if (!definition) throw new Error(`no ${engine} ${mode} transfer in TRANSFER_DEFINITIONS`);
    return definition.name;
  };
  const typesOf = (engine: TxEngine) => ({ '2pc': typeOf(engine, TxMode.TwoPhaseCommit), saga: typeOf(engine, TxMode.Saga) });
  const bank = (name: BankName): BankDeps => {
    const { table, queueUrl, functionName } = config.CONCORD_BANKS[name];
    const service = new Bank(name, clients.dynamodb, table);
    const handlers = service.handlers();
    return {
      bank: service,
      // Only `record` is called here; the handlers make it the same participant the workers run.
      participant: new Participant<TransferLeg>({
        dynamodb: clients.dynamodb,
        tableName: table,
        sfn: clients.sfn,
        handlers: { debit: handlers, credit: handlers },
        coordinatorTable: config.CONCORD_COORDINATOR_TABLE,
      }),
      queueUrl,
      functionName,
    };
  };
  const bucket = config.CONCORD_CLAIM_CHECK_BUCKET;
  const queues = createQueueService({
    dynamodb: clients.dynamodb,
    tableName: config.CONCORD_QUEUE_TABLE,
    ...(bucket !== undefined ? { claimCheck: { s3: clients.s3, bucket } } : {}),
  });
  const outboxQueue = config.CONCORD_OUTBOX_QUEUE;
  return {
    queues,
    ...(outboxQueue !== undefined
      ? {
          accountEvents: async (event: Record<string, unknown>) => [
            ...(await queues.queue(outboxQueue).prepareOutbox([{ body: JSON.stringify(event), contentType: ContentType.Json }]))
              .transactItems,
          ],
        }
      : {}),
    coordinator: new Coordinator({
      dynamodb: clients.dynamodb,
      sfn: clients.sfn,
      tableName: config.CONCORD_COORDINATOR_TABLE,
      stateMachines,
    }),
    // Its own election role: an operator's retry never waits for the sweeper's lease, and the two
    // cannot act on one transaction together (the sweeper acts on PENDING ones, a retry on STUCK
    // ones, each by a write conditional on the epoch it read).
    operator: new Sweeper({
      dynamodb: clients.dynamodb,
      sfn: clients.sfn,
      tableName: config.CONCORD_COORDINATOR_TABLE,
      stateMachines,
      holder: `api-${randomUUID()}`,
      role: OPERATOR_ROLE,
      leaseTtlMs: 10_000,
      safetyMarginMs: 2_000,
    }),
    banks: Object.fromEntries(BANK_NAMES.map((name) => [name, bank(name)])) as Record<BankName, BankDeps>,
    transferTypes: typesOf(TxEngine.Standard),
    expressTransferTypes: typesOf(TxEngine.Express),
    newId: randomUUID,
  };
}
