import { ArnFormat, Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import * as logs from 'aws-cdk-lib/aws-logs';
import * as sqs from 'aws-cdk-lib/aws-sqs';
import * as sfn from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import { OPEN_INDEX, STATUS_INDEX } from '../../functions/adapters/tx/coordinator.js';
import { EnvVar } from '../../functions/config/variables.js';
import { buildStateMachine } from '../../functions/core/tx/asl.js';
import { type TransactionDefinition, TxEngine } from '../../functions/core/tx/definition.js';
import { ConcordFunction } from './function.js';
import { grantTable } from './grants.js';
import { concordTable } from './storage.js';

export interface TransactionCoordinatorProps {
  /**
   * The transaction types; one state machine each, generated from the definition: Standard or
   * Express as the definition's `engine` says.
   */
  readonly definitions: readonly TransactionDefinition[];
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** How often the sweeper looks for stuck transactions. @default Duration.minutes(1) */
  readonly sweepEvery?: Duration;
}

export interface ParticipantServiceOptions {
  /**
   * The participant queue's visibility timeout; keep each phase's timeoutSeconds at three times
   * this or more (docs/transactions.md). @default 6x the function's timeout, as AWS advises
   */
  readonly visibilityTimeout?: Duration;
  /** Messages per invocation. @default 10 */
  readonly batchSize?: number;
  /** Deliveries before a coordinator message goes to the DLQ. @default 10 */
  readonly maxReceiveCount?: number;
  /**
   * How often `handler` is also invoked on a schedule (an EventBridge "Scheduled Event") to settle
   * in-doubt transactions from the decision record (T3; `participantLambdaHandler`).
   * @default Duration.minutes(5)
   */
  readonly resolveInDoubtEvery?: Duration;
}

export interface ParticipantService {
  /** Where the standard engine's state machines send phase messages; absent without a standard type. */
  readonly queue?: sqs.Queue;
  readonly deadLetterQueue?: sqs.Queue;
  /** The function the express engine's state machines invoke (the handler itself). */
  readonly functionName: string;
}

/**
 * The 2PC/saga coordinator: the transaction table (records, decisions, parked compensations, the
 * sweeper's lease, and the sparse `open` index), one state machine per transaction type (Standard
 * or Express), the participant services (for standard types their queues with DLQs; for express
 * types the permission to invoke them), and the sweeper on a schedule.
 */
export class TransactionCoordinator extends Construct {
  public readonly table: dynamodb.Table;
  public readonly stateMachines: Record<string, sfn.StateMachine> = {};
  public readonly sweeper: ConcordFunction;
  public readonly participants: Record<string, ParticipantService> = {};
  private readonly removalPolicy: RemovalPolicy;

  constructor(scope: Construct, id: string, props: TransactionCoordinatorProps) {
    super(scope, id);
    if (props.definitions.length === 0) throw new Error('TransactionCoordinator: definitions must not be empty');
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.table = concordTable(this, 'Table', { removalPolicy: this.removalPolicy });
    // Sparse: only open transactions carry `ob`; the sweeper queries past-deadline ones per bucket.
    this.table.addGlobalSecondaryIndex({
      indexName: OPEN_INDEX,
      partitionKey: { name: 'ob', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'dl', type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });
    // Every record carries `ls` (its status): the operators' listing, newest first. KEYS_ONLY: an
    // update that leaves `ls` alone (the decision, the epoch) writes nothing to the index; the
    // listing reads the records it points at with one BatchGetItem.
    this.table.addGlobalSecondaryIndex({
      indexName: STATUS_INDEX,
      partitionKey: { name: 'ls', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'createdAt', type: dynamodb.AttributeType.NUMBER },
      projectionType: dynamodb.ProjectionType.KEYS_ONLY,
    });

    for (const definition of props.definitions) {
      const express = definition.engine === TxEngine.Express;
      const logGroup = new logs.LogGroup(this, `${definition.name}Logs`, { retention: logs.RetentionDays.ONE_MONTH });
      const machine = new sfn.StateMachine(this, definition.name, {
        stateMachineType: express ? sfn.StateMachineType.EXPRESS : sfn.StateMachineType.STANDARD,
        definitionBody: sfn.DefinitionBody.fromString(buildStateMachine(definition, { coordinatorTable: this.table.tableName })),
        // Express keeps no execution history: its log is the only record of what a run did.
        logs: { destination: logGroup, level: sfn.LogLevel.ALL, includeExecutionData: false },
        tracingEnabled: true,
        comment: `Concord ${definition.mode} coordinator (${definition.engine}) for ${definition.name}`,
      });
      // What the generated states call: the transaction record (decision, status, parked items).
      machine.addToRolePolicy(
        new iam.PolicyStatement({
          actions: ['dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:PutItem'],
          resources: [this.table.tableArn],
        }),
      );
      this.stateMachines[definition.name] = machine;
      this.engines.set(definition.name, definition.engine);
    }

    this.sweeper = new ConcordFunction(this, 'Sweeper', {
      handler: 'sweeper',
      description: 'Concord sweeper: recovers transactions past their deadline (one leader at a time)',
      timeout: Duration.seconds(60),
      environment: {
        ...this.environment,
        // The sweeper gives a recovery run the definition's whole budget (transactionBudgetSeconds).
        [EnvVar.TransactionDefinitions]: JSON.stringify(props.definitions),
      },
    });
    grantTable(this.table, this.sweeper, ['dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'], { index: OPEN_INDEX });
    this.grantRecovery(this.sweeper);
    new events.Rule(this, 'SweepSchedule', {
      schedule: events.Schedule.rate(props.sweepEvery ?? Duration.minutes(1)),
      targets: [new targets.LambdaFunction(this.sweeper)],
    });
  }

  /** Start recovery runs: StartExecution on every machine, StopExecution on the standard ones' executions. */
  private grantRecovery(grantee: iam.IGrantable): void {
    for (const [name, machine] of Object.entries(this.stateMachines)) {
      machine.grantStartExecution(grantee);
      // StopExecution is for Standard workflows only; an Express run is never stopped (it is a harmless duplicate).
      if (this.engineOf(name) === TxEngine.Express) continue;
      grantee.grantPrincipal.addToPrincipalPolicy(
        new iam.PolicyStatement({
          actions: ['states:StopExecution'],
          resources: [
            Stack.of(this).formatArn({
              service: 'states',
              resource: 'execution',
              resourceName: `${machine.stateMachineName}:*`,
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          ],
        }),
      );
    }
  }

  /**
   * The operators' reads and actions (the API's GET /v1/transactions, timelines, and the retry of a
   * STUCK transaction): the by-status index, the records and parked items, and the fenced retry,
   * which takes a lease of its own role and starts a recovery run as the sweeper does.
   */
  grantOperate(grantee: iam.IGrantable): void {
    grantTable(
      this.table,
      grantee,
      [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:ConditionCheckItem',
      ],
      { index: STATUS_INDEX },
    );
    this.grantRecovery(grantee);
  }

  private readonly engines = new Map<string, TxEngine>();

  private engineOf(type: string): TxEngine {
    return this.engines.get(type) ?? TxEngine.Standard;
  }

  private machinesOf(engine: TxEngine): sfn.StateMachine[] {
    return Object.entries(this.stateMachines)
      .filter(([name]) => this.engineOf(name) === engine)
      .map(([, machine]) => machine);
  }

  /**
   * A participant service, one `handler` for both engines (`participantLambdaHandler`): for the
   * standard types a queue (and DLQ) their state machines send phase messages to, `handler`
   * subscribed with partial batch responses and allowed to answer task tokens; for the express
   * types the permission for their state machines to invoke `handler`; for all, the schedule for
   * in-doubt resolution and the read of decisions.
   */
  addParticipantService(name: string, handler: lambda.Function, options: ParticipantServiceOptions = {}): ParticipantService {
    const viaQueue = this.machinesOf(TxEngine.Standard);
    const invoked = this.machinesOf(TxEngine.Express);
    // The function itself (the ASL invokes it unqualified), not its versions and aliases (`:*`).
    for (const machine of invoked) {
      machine.addToRolePolicy(new iam.PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [handler.functionArn] }));
    }
    grantTable(this.table, handler, ['dynamodb:GetItem']);
    new events.Rule(this, `${name}InDoubtSchedule`, {
      schedule: events.Schedule.rate(options.resolveInDoubtEvery ?? Duration.minutes(5)),
      targets: [new targets.LambdaFunction(handler)],
    });
    if (viaQueue.length === 0) {
      const service = { functionName: handler.functionName };
      this.participants[name] = service;
      return service;
    }
    const deadLetterQueue = new sqs.Queue(this, `${name}Dlq`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy: this.removalPolicy,
    });
    const queue = new sqs.Queue(this, `${name}Queue`, {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: options.visibilityTimeout ?? Duration.seconds(handler.timeout ? handler.timeout.toSeconds() * 6 : 180),
      deadLetterQueue: { queue: deadLetterQueue, maxReceiveCount: options.maxReceiveCount ?? 10 },
      removalPolicy: this.removalPolicy,
    });
    handler.addEventSource(new SqsEventSource(queue, { batchSize: options.batchSize ?? 10, reportBatchItemFailures: true }));
    for (const machine of viaQueue) {
      queue.grantSendMessages(machine);
      machine.grantTaskResponse(handler);
    }
    const service = { queue, deadLetterQueue, functionName: handler.functionName };
    this.participants[name] = service;
    return service;
  }

  /** Start transactions and read them (the API): the record, the executions (Express ones also synchronously), the view. */
  grantStart(grantee: iam.IGrantable): void {
    grantTable(this.table, grantee, ['dynamodb:PutItem', 'dynamodb:GetItem']);
    for (const machine of Object.values(this.stateMachines)) machine.grantStartExecution(grantee);
    for (const machine of this.machinesOf(TxEngine.Express)) machine.grantStartSyncExecution(grantee);
  }

  /** Environment variables for the API and tools. */
  get environment(): Record<string, string> {
    return {
      [EnvVar.CoordinatorTable]: this.table.tableName,
      [EnvVar.StateMachines]: Stack.of(this).toJsonString(
        Object.fromEntries(Object.entries(this.stateMachines).map(([name, m]) => [name, m.stateMachineArn])),
      ),
    };
  }
}
