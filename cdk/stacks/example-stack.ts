import { CfnOutput, Duration, RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as sqs from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { BANK_NAMES, TRANSFER_DEFINITIONS } from '../../functions/bank/transfer.js';
import { EnvVar } from '../../functions/config/variables.js';
import { ConcordFunction } from '../constructs/function.js';
import { grantTable } from '../constructs/grants.js';
import { type ApiAuthorization, ConcordApi, DurableQueue, TransactionCoordinator } from '../constructs/index.js';
import { concordTable } from '../constructs/storage.js';

/** The queue the example's consumer drains: account events, enqueued through the outbox. */
export const EXAMPLE_CONSUMED_QUEUES = ['account-events'];

export interface ConcordExampleStackProps extends StackProps {
  /** @default { kind: 'iam' } */
  readonly authorization?: ApiAuthorization;
  /** Stamped into an output so that `npm start` can tell whether the deployed app is current. */
  readonly sourceHash?: string;
  /** @default RemovalPolicy.DESTROY (an example: `cdk destroy` removes its data) */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The example app: two banks as participant services with their own tables and queues, the
 * coordinator with both transfer definitions, a queue table with an example consumer, and the
 * HTTP API in front of all of it.
 */
export class ConcordExampleStack extends Stack {
  public readonly queue: DurableQueue;
  public readonly coordinator: TransactionCoordinator;
  public readonly api: ConcordApi;
  public readonly bankTables: Record<string, dynamodb.Table> = {};

  constructor(scope: Construct, id: string, props: ConcordExampleStackProps = {}) {
    super(scope, id, props);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    this.queue = new DurableQueue(this, 'Queue', { removalPolicy });
    this.queue.watch(EXAMPLE_CONSUMED_QUEUES);
    const consumer = new ConcordFunction(this, 'Consumer', {
      handler: 'example-consumer',
      description: 'Example consumer of Concord queues',
      timeout: Duration.seconds(30),
      environment: { ...this.queue.environment, [EnvVar.ConsumedQueues]: EXAMPLE_CONSUMED_QUEUES.join(',') },
    });
    this.queue.addConsumer(consumer, { queues: EXAMPLE_CONSUMED_QUEUES });

    this.coordinator = new TransactionCoordinator(this, 'Coordinator', {
      // Both modes on both engines: the API picks one per transfer (`engine`, `wait`).
      definitions: TRANSFER_DEFINITIONS,
      removalPolicy,
    });
    const banks: Record<string, { table: string; queueUrl: string; functionName: string }> = {};
    for (const bank of BANK_NAMES) {
      const table = concordTable(this, `${bank}Table`, { removalPolicy });
      const participant = new ConcordFunction(this, `${bank}Participant`, {
        handler: 'bank-participant',
        description: `${bank} as a transaction participant`,
        environment: {
          [EnvVar.BankName]: bank,
          [EnvVar.BankTable]: table.tableName,
          [EnvVar.CoordinatorTable]: this.coordinator.table.tableName,
        },
      });
      grantTable(table, participant, [
        'dynamodb:GetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:ConditionCheckItem',
      ]);
      const service = this.coordinator.addParticipantService(bank, participant);
      this.bankTables[bank] = table;
      banks[bank] = { table: table.tableName, queueUrl: (service.queue as sqs.Queue).queueUrl, functionName: service.functionName };
    }

    this.api = new ConcordApi(this, 'Api', {
      authorization: props.authorization ?? { kind: 'iam' },
      environment: {
        ...this.queue.environment,
        ...this.coordinator.environment,
        [EnvVar.Banks]: this.toJsonString(banks),
        [EnvVar.OutboxQueue]: EXAMPLE_CONSUMED_QUEUES[0] as string,
      },
    });
    this.queue.grantProduce(this.api.function);
    this.queue.grantConsume(this.api.function);
    this.coordinator.grantStart(this.api.function);
    this.coordinator.grantOperate(this.api.function);
    this.queue.grantInspect(this.api.function);
    for (const table of Object.values(this.bankTables)) {
      grantTable(table, this.api.function, ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:ConditionCheckItem']);
    }

    new CfnOutput(this, 'QueueTable', { value: this.queue.table.tableName });
    new CfnOutput(this, 'CoordinatorTable', { value: this.coordinator.table.tableName });
    for (const [bank, table] of Object.entries(this.bankTables))
      new CfnOutput(this, `${bank.replace('-', '')}Table`, { value: table.tableName });
    new CfnOutput(this, 'SourceHash', { value: props.sourceHash ?? 'unknown' });
  }
}
