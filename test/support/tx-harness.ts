import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import {
  buildStateMachine,
  Coordinator,
  type CrashWindowPauses,
  type ExecutionInput,
  executionArn,
  Participant,
  type ParticipantHandlers,
  type ParticipantOptions,
  PhaseStepFailed,
  type RegisteredStateMachine,
  runParticipantWorker,
  Sweeper,
  type SweeperOptions,
  type TransactionDefinition,
  TxEngine,
} from 'concord-aws/tx';
import { Bank, type TransferLeg } from '../../functions/bank/bank.js';
import { CostMeter, dynamoClient, endpoint, uniqueName } from './aws.js';
import { participantFunctions } from './participant-functions.js';
import { createCoordinatorTable, createPlainTable } from './tables.js';

const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const region = 'us-east-1';

export interface BankRig {
  readonly bank: Bank;
  readonly queueUrl: string;
  /** The bank's participant Lambda (express engine; test/support/participant-functions.ts). */
  readonly functionName: string;
  participant: Participant<TransferLeg>;
}

/**
 * Two banks (tables, SQS queues and participant Lambdas), a coordinator table, the real state
 * machines deployed to the emulator (Standard or Express, as each definition's engine says), and
 * in-process participants that can be stopped and restarted (crashes): SQS workers for the
 * standard engine, the proxied Lambdas' handlers for the express engine.
 */
export interface MachineSpec {
  readonly definition: TransactionDefinition;
  /** Registered under this type name (default: the definition's name). */
  readonly key?: string;
  /** Crash-window pauses (test fault injection, see core/tx/asl.ts). */
  readonly pauses?: CrashWindowPauses;
}

export async function txHarness(
  machines: Array<TransactionDefinition | MachineSpec>,
  options: { crashPoint?: ParticipantOptions<TransferLeg>['crashPoint'] } = {},
) {
  const specs: MachineSpec[] = machines.map((m) => ('definition' in m ? m : { definition: m }));
  const definitions = specs.map((m) => m.definition);
  const meter = new CostMeter();
  const dynamodb = dynamoClient(meter);
  // disableHostPrefix: StartSyncExecution's endpoint is `sync-<host>` on AWS; a local endpoint has none.
  const sfn = meter.attach(new SFNClient({ endpoint: endpoint(), region, credentials, disableHostPrefix: true }), 'SFN');
  const sqs = meter.attach(new SQSClient({ endpoint: endpoint(), region, credentials }), 'SQS');
  const lambda = new LambdaClient({ endpoint: endpoint(), region, credentials });
  const suffix = uniqueName('t').slice(2);
  const coordinatorTable = await createCoordinatorTable(dynamodb, `concord-tx-${suffix}`);
  const stateMachines: Record<string, RegisteredStateMachine> = {};
  for (const spec of specs) {
    const key = spec.key ?? spec.definition.name;
    const { stateMachineArn } = await sfn.send(
      new CreateStateMachineCommand({
        name: `${key}-${suffix}`,
        definition: buildStateMachine(spec.definition, { coordinatorTable }, spec.pauses),
        roleArn: 'arn:aws:iam::000000000000:role/concord-coordinator',
        type: spec.definition.engine === TxEngine.Express ? 'EXPRESS' : 'STANDARD',
      }),
    );
    stateMachines[key] = { definition: spec.definition, stateMachineArn: stateMachineArn as string };
  }
  const coordinator = new Coordinator({ dynamodb, sfn, tableName: coordinatorTable, stateMachines, deadlineSlackMs: 1_000 });
  const rigs: Record<string, BankRig> = {};
  const names = new Set(definitions.flatMap((d) => d.participants.map((p) => p.name)));
  const errors: unknown[] = [];
  const bankNames = ['bank-a', 'bank-b'];
  const functions = await participantFunctions({
    lambda,
    banks: bankNames,
    suffix,
    participantOf: (bank) => (rigs[bank] as BankRig).participant as Participant<unknown>,
    // A phase-two step that failed is an answer the state machine retries, not a crash.
    onError: (error) => {
      if (!(error instanceof PhaseStepFailed)) errors.push(error);
    },
  });
  for (const bankName of bankNames) {
    const table = await createPlainTable(dynamodb, `${bankName}-${suffix}`);
    const { QueueUrl } = await sqs.send(
      new CreateQueueCommand({ QueueName: `${bankName}-${suffix}`, Attributes: { VisibilityTimeout: '5' } }),
    );
    const bank = new Bank(bankName, dynamodb, table);
    const handlers = bank.handlers();
    const rig: BankRig = {
      bank,
      queueUrl: QueueUrl as string,
      functionName: functions.functionName(bankName),
      participant: newParticipant(bank, handlers),
    };
    rigs[bankName] = rig;
  }
  function newParticipant(bank: Bank, handlers: ParticipantHandlers<TransferLeg>, crashPoint = options.crashPoint) {
    return new Participant<TransferLeg>({
      dynamodb,
      tableName: bank.tableName,
      sfn,
      handlers: Object.fromEntries([...names].map((n) => [n, handlers])),
      coordinatorTable,
      ...(crashPoint ? { crashPoint } : {}),
    });
  }
  const workers: AbortController[] = [];
  /** Participants up: SQS workers for these banks, and their Lambdas answer (until the controller aborts). */
  const startWorkers = (bankNames = Object.keys(rigs), copies = 2) => {
    const controller = new AbortController();
    workers.push(controller);
    for (const name of bankNames) functions.setOnline(name, true);
    controller.signal.addEventListener('abort', () => {
      for (const name of bankNames) functions.setOnline(name, false);
    });
    for (const name of bankNames) {
      const rig = rigs[name] as BankRig;
      for (let i = 0; i < copies; i++) {
        void runParticipantWorker({
          participant: rig.participant as Participant<unknown>,
          sqs,
          queueUrl: rig.queueUrl,
          signal: controller.signal,
          onError: (e) => errors.push(e),
        });
      }
    }
    return controller;
  };
  const stopWorkers = () => {
    for (const w of workers.splice(0)) w.abort();
  };
  /** Stops everything and releases the participants' HTTP server (afterAll). */
  const close = async () => {
    stopWorkers();
    for (const bank of bankNames) functions.setOnline(bank, true); // answer what is held, then close
    await functions.close();
  };
  const sweeper = (holder: string, extra: Partial<SweeperOptions> = {}) =>
    new Sweeper({
      dynamodb,
      sfn,
      tableName: coordinatorTable,
      stateMachines,
      holder,
      leaseTtlMs: 10_000,
      safetyMarginMs: 1_000,
      recoveryGraceMs: 30_000,
      ...extra,
    });

  /** Starts a transfer between two banks' accounts; legs beyond the first credit split the amount. */
  const transfer = (
    type: string,
    txId: string,
    from: { bank: string; id: string },
    to: Array<{ bank: string; id: string; amount: number }>,
    options: { wait?: boolean } = {},
  ) => {
    const total = to.reduce((n, t) => n + t.amount, 0);
    const definition = stateMachines[type]?.definition as TransactionDefinition;
    const participants: ExecutionInput['participants'] = definition.participants.map((p, i) => {
      const leg =
        i === 0
          ? { bank: from.bank, id: from.id, amount: total, kind: 'debit' as const }
          : { ...(to[i - 1] as (typeof to)[number]), kind: 'credit' as const };
      // Both addresses: one participant serves both engines; the definition's engine picks one.
      const rig = rigs[leg.bank] as BankRig;
      return {
        name: p.name,
        queueUrl: rig.queueUrl,
        functionName: rig.functionName,
        payload: { kind: leg.kind, accountId: leg.id, amount: leg.amount } satisfies TransferLeg,
      };
    });
    return coordinator.start(type, txId, participants, options);
  };

  /**
   * Invokes a bank's participant Lambda through the emulator with one envelope, as the express
   * state machine does: the answer (a DirectReply), or the function error it threw.
   */
  const invoke = async (bank: string, envelope: object): Promise<{ answer?: unknown; functionError?: string; message?: string }> => {
    const { Payload, FunctionError } = await lambda.send(
      new InvokeCommand({ FunctionName: (rigs[bank] as BankRig).functionName, Payload: Buffer.from(JSON.stringify(envelope)) }),
    );
    const body = Payload ? JSON.parse(Buffer.from(Payload).toString('utf8')) : undefined;
    return FunctionError ? { functionError: FunctionError, message: JSON.stringify(body) } : { answer: body };
  };

  /** Phase messages a bank has not finished: waiting or in flight in its queue, or invocations it holds. */
  const pending = async (bank: string): Promise<number> => {
    const { Attributes = {} } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: (rigs[bank] as BankRig).queueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return (
      Number(Attributes.ApproximateNumberOfMessages ?? 0) +
      Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
      functions.pending(bank)
    );
  };

  const waitForEnd = async (txId: string, timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const view = await coordinator.view(txId);
      if (view.status !== 'PENDING') return view;
      if (Date.now() > deadline)
        throw new Error(`transaction ${txId} still PENDING after ${timeoutMs} ms (decision ${view.decision ?? 'none'})`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };

  const executionStatus = async (type: string, name: string) => {
    const machine = stateMachines[type] as RegisteredStateMachine;
    const { status } = await sfn.send(new DescribeExecutionCommand({ executionArn: executionArn(machine.stateMachineArn, name) }));
    return status;
  };

  return {
    meter,
    dynamodb,
    sfn,
    sqs,
    coordinatorTable,
    stateMachines,
    coordinator,
    rigs,
    errors,
    newParticipant,
    startWorkers,
    stopWorkers,
    close,
    pending,
    invoke,
    sweeper,
    transfer,
    waitForEnd,
    executionStatus,
  };
}
