/**
 * The coordinator as an Amazon States Language document, generated from a TransactionDefinition.
 * Pure: the CDK construct and the tests deploy what this returns.
 *
 * Execution input (see `ExecutionInput`): the transaction id, the attempt epoch, whether this is a
 * recovery run started by the sweeper, and per participant (in definition order) its address and
 * payload. The engine decides how a participant is reached:
 *   standard: an SQS message with a task token; the participant answers with SendTaskSuccess/Failure;
 *   express:  a synchronous Lambda invocation (`lambda:invoke`, request/response); the participant
 *             returns its reply (`DirectReply`): a NO vote or a failed action is data, routed by a
 *             Choice; a phase-two step or compensation that fails throws, so the Task's Retry applies.
 * Both engines share everything else: the decision's conditional write, the recovery route, the
 * status marks, parking (T5).
 *
 * Crash windows of the coordinator (T6). Each is recovered by the sweeper, which finds the
 * transaction record past its deadline and starts a recovery run (`recover: true`):
 *   C1 record written, execution not started   -> no decision: presumed abort, abort everyone
 *   C2 prepare/action messages sent, no votes   -> same
 *   C3 votes in, decision not written           -> same (the decision is written once, T2: a late
 *                                                  coordinator's conditional write loses and it
 *                                                  follows the recorded decision)
 *   C4 decision written, phase two not started  -> phase two of the recorded decision
 *   C5 phase two partly delivered               -> phase two again (participants are idempotent)
 *   C6 phase two done, status not marked        -> phase two again (no-ops), then mark
 */
import { type RetryPolicy, type TransactionDefinition, TxEngine, TxMode } from './definition.js';
import {
  DECISION_ASSIGNMENTS,
  DECISION_NOT_WRITTEN,
  DecisionField,
  DecisionValue,
  KeyAttr,
  PARKED_PK,
  TX_RECORD_PREFIX,
  TX_RECORD_SORT_KEY,
  TxField,
} from './record.js';

/** Where a participant is reached: its SQS queue (standard engine) or its Lambda function (express). */
export interface ParticipantAddress {
  readonly name: string;
  /** Standard engine: the participant's SQS queue. */
  readonly queueUrl?: string;
  /** Express engine: the participant's Lambda function (name or ARN), invoked synchronously. */
  readonly functionName?: string;
  readonly payload: unknown;
}

export interface ExecutionInput {
  readonly txId: string;
  readonly epoch: number;
  readonly recover: boolean;
  /** Saga recovery: compensate from this index down (the last one when unknown). */
  readonly compensateFrom?: number;
  readonly participants: readonly ParticipantAddress[];
}

export interface AslResources {
  /** The coordinator's DynamoDB table (transaction records, decisions, parked compensations). */
  readonly coordinatorTable: string;
}

type State = Record<string, unknown>;

export const TxStatus = { Pending: 'PENDING', Committed: 'COMMITTED', Aborted: 'ABORTED', Stuck: 'STUCK' } as const;
export type TxStatus = (typeof TxStatus)[keyof typeof TxStatus];
export const Decision = { Commit: 'COMMIT', Abort: 'ABORT' } as const;
export type Decision = (typeof Decision)[keyof typeof Decision];

/** Transport errors of the SQS integration: the message did not reach the queue, so resend. */
const SQS_TRANSPORT_ERRORS = [
  'SQS.SdkClientException',
  'SQS.AmazonSQSException',
  'SQS.KmsThrottledException',
  'SQS.RequestThrottledException',
];

/**
 * Transient errors of the DynamoDB integration ("DynamoDB." + the exception name): throttling, a
 * conflicting transaction, a service fault. Never ConditionalCheckFailedException: that is an
 * answer (a decision already written, a status already marked), handled by each state's Catch.
 */
const DYNAMODB_TRANSIENT_ERRORS = [
  'DynamoDB.ProvisionedThroughputExceededException',
  'DynamoDB.RequestLimitExceeded',
  'DynamoDB.ThrottlingException',
  'DynamoDB.TransactionConflictException',
  'DynamoDB.InternalServerErrorException',
];
/** 1 + 2 + 4 + 8 s at most: a burst of throttling does not fail the execution (and wait for the sweeper). */
const DYNAMODB_RETRY: State = {
  ErrorEquals: DYNAMODB_TRANSIENT_ERRORS,
  IntervalSeconds: 1,
  BackoffRate: 2,
  MaxAttempts: 4,
  JitterStrategy: 'FULL',
};

/** Errors of the Lambda integration that say the invocation did not run (or not to the end): retry it. */
const LAMBDA_TRANSPORT_ERRORS = ['States.TaskFailed'];

const txKey = {
  [KeyAttr.pk]: { 'S.$': `States.Format('${TX_RECORD_PREFIX}{}', $.txId)` },
  [KeyAttr.sk]: { S: TX_RECORD_SORT_KEY },
};

function retry(errors: string[], policy: RetryPolicy): State {
  return {
    ErrorEquals: errors,
    IntervalSeconds: policy.intervalSeconds,
    BackoffRate: policy.backoffRate,
    MaxAttempts: policy.maxAttempts,
    ...(policy.maxDelaySeconds !== undefined ? { MaxDelaySeconds: policy.maxDelaySeconds } : {}),
  };
}

/** What every phase message carries, whichever the engine (the participant's envelope). */
function envelope(definition: TransactionDefinition, index: number, phase: string): State {
  const p = participantAt(definition, index);
  return {
    transaction: definition.name,
    mode: definition.mode,
    'txId.$': '$.txId',
    'epoch.$': '$.epoch',
    participant: p.name,
    phase,
    'payload.$': `$.participants[${index}].payload`,
  };
}

function participantAt(definition: TransactionDefinition, index: number) {
  const p = definition.participants[index];
  if (!p) throw new RangeError(`no participant ${index}`);
  return p;
}

/** Standard engine: an SQS message with a task token; the state waits for the participant's answer. */
function messageTask(definition: TransactionDefinition, index: number, phase: string, retries: State[], extra: State): State {
  const p = participantAt(definition, index);
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::sqs:sendMessage.waitForTaskToken',
    Parameters: {
      'QueueUrl.$': `$.participants[${index}].queueUrl`,
      MessageBody: { ...envelope(definition, index, phase), 'taskToken.$': '$$.Task.Token' },
    },
    // MiniStack does not enforce HeartbeatSeconds; TimeoutSeconds bounds every wait everywhere.
    TimeoutSeconds: p.timeoutSeconds,
    ...(p.heartbeatSeconds !== undefined ? { HeartbeatSeconds: p.heartbeatSeconds } : {}),
    Retry: retries,
    ...extra,
  };
}

/**
 * Express engine: a synchronous invocation of the participant's Lambda. Its reply lands in
 * `$.reply` (the state's own input is kept): `{ok: true, ...}` or `{ok: false, error, cause}`.
 */
function invokeTask(definition: TransactionDefinition, index: number, phase: string, retries: State[], extra: State): State {
  const p = participantAt(definition, index);
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::lambda:invoke',
    Parameters: { 'FunctionName.$': `$.participants[${index}].functionName`, Payload: envelope(definition, index, phase) },
    TimeoutSeconds: p.timeoutSeconds,
    ResultSelector: { 'reply.$': '$.Payload' },
    ResultPath: '$.invoked',
    Retry: retries,
    ...extra,
  };
}

/** A Choice that sends a refusal (`ok: false`) to `onRefused` and anything else to `onAccepted`. */
const refused = (onRefused: string, onAccepted: string): State => ({
  Type: 'Choice',
  Choices: [{ Variable: '$.invoked.reply.ok', BooleanEquals: false, Next: onRefused }],
  Default: onAccepted,
});

const express = (definition: TransactionDefinition) => definition.engine === TxEngine.Express;

/**
 * One participant's phase-one branch of the 2PC Prepare state. Ends in success for a YES vote;
 * fails (so the Parallel's Catch aborts) for a NO vote, a timeout or an error, carrying the
 * participant's reason as `Cause` in both engines.
 */
function prepareBranch(definition: TransactionDefinition, index: number): State {
  const p = participantAt(definition, index);
  const task = `prepare ${p.name}`;
  if (!express(definition)) {
    return {
      StartAt: task,
      States: { [task]: messageTask(definition, index, 'prepare', [retry(SQS_TRANSPORT_ERRORS, p.transportRetry)], { End: true }) },
    };
  }
  return {
    StartAt: task,
    States: {
      [task]: invokeTask(definition, index, 'prepare', [retry(LAMBDA_TRANSPORT_ERRORS, p.transportRetry)], { Next: `${p.name} voted?` }),
      [`${p.name} voted?`]: refused(`${p.name} voted NO`, `${p.name} voted YES`),
      [`${p.name} voted NO`]: { Type: 'Fail', ErrorPath: '$.invoked.reply.error', CausePath: '$.invoked.reply.cause' },
      [`${p.name} voted YES`]: { Type: 'Succeed' },
    },
  };
}

/** A phase-two (commit/abort) or compensation step: retried until it succeeds or the policy runs out. */
function completionTask(definition: TransactionDefinition, index: number, phase: string, extra: State): State {
  const policy = participantAt(definition, index).completionRetry;
  const build = express(definition) ? invokeTask : messageTask;
  return build(definition, index, phase, [retry(['States.ALL'], policy)], { ...extra, ResultPath: null });
}

function decide(table: string, decision: Decision, reasonPath: string | undefined, next: string): State {
  return {
    Type: 'Task',
    Comment: `T2: the decision is written once, by a conditional put, before phase two starts.`,
    Resource: 'arn:aws:states:::dynamodb:updateItem',
    Parameters: {
      TableName: table,
      Key: txKey,
      UpdateExpression: `SET ${DECISION_ASSIGNMENTS}`,
      ConditionExpression: DECISION_NOT_WRITTEN,
      ExpressionAttributeValues: {
        [DecisionValue.decision]: { S: decision },
        [DecisionValue.decidedAt]: { 'S.$': '$$.State.EnteredTime' },
        [DecisionValue.decidedEpoch]: { 'N.$': "States.Format('{}', $.epoch)" },
        [DecisionValue.reason]: reasonPath ? { 'S.$': `States.JsonToString(${reasonPath})` } : { S: 'all participants voted YES' },
      },
    },
    ResultPath: null,
    Retry: [DYNAMODB_RETRY],
    Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: '$.decisionRace', Next: 'Read decision' }],
    Next: next,
  };
}

function markStatus(table: string, status: TxStatus, next: string | undefined): State {
  return {
    Type: 'Task',
    Resource: 'arn:aws:states:::dynamodb:updateItem',
    Parameters: {
      TableName: table,
      Key: txKey,
      // Removing `ob` takes the record out of the sweeper's index of open transactions.
      // `ls` keys the by-status index: it moves with the status.
      UpdateExpression: `SET #status = :s, ${TxField.listStatus} = :s, ${TxField.completedAt} = :t REMOVE ${TxField.openBucket}`,
      ConditionExpression: '#status = :pending',
      ExpressionAttributeNames: { '#status': TxField.status },
      ExpressionAttributeValues: { ':s': { S: status }, ':t': { 'S.$': '$$.State.EnteredTime' }, ':pending': { S: TxStatus.Pending } },
    },
    ResultPath: null,
    Retry: [DYNAMODB_RETRY],
    // Already marked (a recovery run and the original both finishing): nothing to do.
    Catch: [{ ErrorEquals: ['DynamoDB.ConditionalCheckFailedException'], ResultPath: null, Next: 'Done' }],
    ...(next ? { Next: next } : { End: true }),
  };
}

const readDecision = (table: string): State => ({
  Type: 'Task',
  Resource: 'arn:aws:states:::dynamodb:getItem',
  Parameters: { TableName: table, Key: txKey, ConsistentRead: true },
  ResultSelector: { 'Item.$': '$.Item' },
  ResultPath: '$.record',
  Retry: [DYNAMODB_RETRY],
  Next: 'Route decision',
});

function routeDecision(onCommit: string, onAbort: string): State {
  const field = `$.record.Item.${DecisionField.decision}.S`;
  const decided = (value: Decision) => ({
    And: [
      { Variable: field, IsPresent: true },
      { Variable: field, StringEquals: value },
    ],
  });
  return {
    Type: 'Choice',
    Choices: [
      { ...decided(Decision.Commit), Next: onCommit },
      { ...decided(Decision.Abort), Next: onAbort },
    ],
    Default: 'Presume abort',
  };
}

const presumeAbort: State = {
  Type: 'Pass',
  Comment: 'A recovery run found no decision: presumed abort (racing a late coordinator safely, T2).',
  Result: { Error: 'PresumedAbort', Cause: 'no decision before the deadline' },
  ResultPath: '$.failure',
  Next: 'Decide ABORT',
};

function twoPhaseCommit(definition: TransactionDefinition, table: string): Record<string, State> {
  const n = definition.participants.length;
  const phaseTwo = (phase: 'commit' | 'abort', next: string): State => ({
    Type: 'Parallel',
    Branches: definition.participants.map((p, i) => ({
      StartAt: `${phase} ${p.name}`,
      States: { [`${phase} ${p.name}`]: completionTask(definition, i, phase, { End: true }) },
    })),
    ResultPath: null,
    // Retries exhausted: the decision stands; the sweeper resumes phase two from the record.
    Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Phase two incomplete' }],
    Next: next,
  });
  return {
    Route: {
      Type: 'Choice',
      Choices: [{ Variable: '$.recover', BooleanEquals: true, Next: 'Read decision' }],
      Default: 'Prepare',
    },
    Prepare: {
      Type: 'Parallel',
      Comment: `Phase one: ${n} participants vote. A NO vote (VoteNo), a timeout or an error aborts.`,
      Branches: definition.participants.map((_, i) => prepareBranch(definition, i)),
      // The votes themselves are not kept: reaching the next state means every one was YES.
      ResultPath: express(definition) ? null : '$.votes',
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: 'Decide ABORT' }],
      Next: 'Decide COMMIT',
    },
    'Decide COMMIT': decide(table, Decision.Commit, undefined, 'Commit'),
    'Decide ABORT': decide(table, Decision.Abort, '$.failure', 'Abort'),
    'Read decision': readDecision(table),
    'Route decision': routeDecision('Commit', 'Abort'),
    'Presume abort': presumeAbort,
    Commit: phaseTwo('commit', 'Mark COMMITTED'),
    Abort: phaseTwo('abort', 'Mark ABORTED'),
    'Mark COMMITTED': markStatus(table, TxStatus.Committed, 'Done'),
    'Mark ABORTED': markStatus(table, TxStatus.Aborted, 'Done'),
    'Phase two incomplete': { Type: 'Fail', Error: 'PhaseTwoIncomplete', Cause: 'retries exhausted; the sweeper resumes phase two' },
    Done: { Type: 'Succeed' },
  };
}

function saga(definition: TransactionDefinition, table: string): Record<string, State> {
  const ps = definition.participants;
  const last = ps.length - 1;
  const states: Record<string, State> = {
    Route: {
      Type: 'Choice',
      Choices: [{ Variable: '$.recover', BooleanEquals: true, Next: 'Read decision' }],
      Default: `action ${ps[0]?.name}`,
    },
  };
  ps.forEach((p, i) => {
    // The failed step is compensated too: its effect may have landed even though it failed.
    const next = i === last ? 'Decide COMMIT' : `action ${ps[i + 1]?.name}`;
    const catchAll = [{ ErrorEquals: ['States.ALL'], ResultPath: '$.failure', Next: `failed at ${p.name}` }];
    if (express(definition)) {
      states[`action ${p.name}`] = invokeTask(definition, i, 'action', [retry(LAMBDA_TRANSPORT_ERRORS, p.transportRetry)], {
        Catch: catchAll,
        Next: `${p.name} acted?`,
      });
      states[`${p.name} acted?`] = refused(`${p.name} refused`, next);
      // The refusal in the shape a caught error has ({Error, Cause}), as the standard engine records it.
      states[`${p.name} refused`] = {
        Type: 'Pass',
        Parameters: { 'Error.$': '$.invoked.reply.error', 'Cause.$': '$.invoked.reply.cause' },
        ResultPath: '$.failure',
        Next: `failed at ${p.name}`,
      };
    } else {
      states[`action ${p.name}`] = messageTask(definition, i, 'action', [retry(SQS_TRANSPORT_ERRORS, p.transportRetry)], {
        ResultPath: null,
        Catch: catchAll,
        Next: next,
      });
    }
    states[`failed at ${p.name}`] = { Type: 'Pass', Result: i, ResultPath: '$.compensateFrom', Next: 'Decide ABORT' };
  });
  states['Decide COMMIT'] = decide(table, Decision.Commit, undefined, 'Mark COMMITTED');
  states['Decide ABORT'] = decide(table, Decision.Abort, '$.failure', `from ${ps[last]?.name}?`);
  states['Read decision'] = readDecision(table);
  states['Route decision'] = routeDecision('Mark COMMITTED', 'Compensate all');
  // A recovery run: with ABORT recorded, compensate every step (it cannot know which ran; a
  // compensation of a step that never ran records a tombstone that refuses a late action).
  states['Compensate all'] = { Type: 'Pass', Result: last, ResultPath: '$.compensateFrom', Next: `from ${ps[last]?.name}?` };
  states['Presume abort'] = { ...presumeAbort, Next: 'Presumed: compensate all' };
  states['Presumed: compensate all'] = { Type: 'Pass', Result: last, ResultPath: '$.compensateFrom', Next: 'Decide ABORT' };
  // Compensations in reverse: a ladder of "compensate step j if the failure was at or after j".
  for (let j = last; j >= 0; j--) {
    const p = ps[j];
    if (!p) continue;
    const next = j === 0 ? 'Aborted or stuck?' : `from ${ps[j - 1]?.name}?`;
    states[`from ${p.name}?`] = {
      Type: 'Choice',
      Choices: [{ Variable: '$.compensateFrom', NumericGreaterThanEquals: j, Next: `compensate ${p.name}` }],
      Default: next,
    };
    states[`compensate ${p.name}`] = completionTask(definition, j, 'compensate', {
      // T5: a compensation that keeps failing is parked, never reported as success.
      Catch: [{ ErrorEquals: ['States.ALL'], ResultPath: '$.stuckError', Next: `park ${p.name}` }],
      Next: next,
    });
    states[`park ${p.name}`] = {
      Type: 'Task',
      Resource: 'arn:aws:states:::dynamodb:putItem',
      Parameters: {
        TableName: table,
        Item: {
          [KeyAttr.pk]: { S: PARKED_PK },
          [KeyAttr.sk]: { 'S.$': `States.Format('{}#${p.name}', $.txId)` },
          txId: { 'S.$': '$.txId' },
          participant: { S: p.name },
          error: { 'S.$': 'States.JsonToString($.stuckError)' },
          parkedAt: { 'S.$': '$$.State.EnteredTime' },
        },
      },
      ResultPath: '$.parked',
      Retry: [DYNAMODB_RETRY],
      Next: next,
    };
  }
  states['Aborted or stuck?'] = {
    Type: 'Choice',
    Choices: [{ Variable: '$.parked', IsPresent: true, Next: 'Mark STUCK' }],
    Default: 'Mark ABORTED',
  };
  states['Mark COMMITTED'] = markStatus(table, TxStatus.Committed, 'Done');
  states['Mark ABORTED'] = markStatus(table, TxStatus.Aborted, 'Done');
  states['Mark STUCK'] = markStatus(table, TxStatus.Stuck, 'Done');
  states.Done = { Type: 'Succeed' };
  return states;
}

/**
 * Fault injection for the crash-point tests: a Wait of `seconds` before each named state, so a
 * test can stop the execution inside that numbered crash window. Never used outside tests.
 */
export type CrashWindowPauses = Readonly<Record<string, number>>;

function insertPauses(states: Record<string, State>, pauses: CrashWindowPauses): Record<string, State> {
  const rewired = structuredClone(states);
  const redirect = (target: unknown, from: string, to: string) => (target === from ? to : target);
  for (const [before, seconds] of Object.entries(pauses)) {
    if (!rewired[before]) throw new Error(`no state ${JSON.stringify(before)} to pause before`);
    const pause = `pause before ${before}`;
    for (const state of Object.values(rewired)) {
      state.Next = redirect(state.Next, before, pause);
      state.Default = redirect(state.Default, before, pause);
      for (const c of (state.Choices as State[] | undefined) ?? []) c.Next = redirect(c.Next, before, pause);
      for (const c of (state.Catch as State[] | undefined) ?? []) c.Next = redirect(c.Next, before, pause);
      if (state.Next === undefined) delete state.Next;
      if (state.Default === undefined) delete state.Default;
    }
    rewired[pause] = { Type: 'Wait', Seconds: seconds, Next: before };
  }
  return rewired;
}

/** The state machine definition (JSON text) for `definition`. */
export function buildStateMachine(definition: TransactionDefinition, resources: AslResources, pauses: CrashWindowPauses = {}): string {
  const built =
    definition.mode === TxMode.TwoPhaseCommit
      ? twoPhaseCommit(definition, resources.coordinatorTable)
      : saga(definition, resources.coordinatorTable);
  const states = Object.keys(pauses).length > 0 ? insertPauses(built, pauses) : built;
  const document = {
    Comment: `Concord ${definition.mode} coordinator (${definition.engine}) for "${definition.name}" (${definition.participants.map((p) => p.name).join(', ')})`,
    StartAt: 'Route',
    States: states,
  };
  return JSON.stringify(document, null, 2);
}
