/**
 * What a participant does with a coordinator message, given what it has recorded about that
 * transaction. Pure: the runtime (adapters/tx/participant.ts) loads the record, asks here, runs
 * the handler if told to, and writes the new record in the same DynamoDB transaction as the
 * handler's own writes, conditional on the record it loaded. So each phase applies at most once
 * per (transaction, participant), whatever the duplicates, delays and replays (T4).
 */
import type { PhaseEntry } from './timeline.js';

export const Phase = {
  Prepare: 'prepare',
  Commit: 'commit',
  Abort: 'abort',
  Action: 'action',
  Compensate: 'compensate',
} as const;
export type Phase = (typeof Phase)[keyof typeof Phase];

export const ParticipantState = {
  Prepared: 'PREPARED',
  Committed: 'COMMITTED',
  Aborted: 'ABORTED',
  Done: 'DONE',
  Failed: 'FAILED',
  Compensated: 'COMPENSATED',
} as const;
export type ParticipantState = (typeof ParticipantState)[keyof typeof ParticipantState];

export interface ParticipantRecord {
  readonly state: ParticipantState;
  /** The attempt epoch of the message that last changed the record. */
  readonly epoch: number;
  readonly reason?: string;
  /** The phases applied, oldest first (the transaction's timeline, core/tx/timeline.ts). Records written before it existed have none. */
  readonly history?: readonly PhaseEntry[];
}

export interface CoordinatorMessage {
  readonly phase: Phase;
  readonly epoch: number;
}

/** The answer sent back to the coordinator's task token. */
export type Reply =
  | { readonly kind: 'success'; readonly vote?: 'YES' }
  | { readonly kind: 'failure'; readonly error: ReplyError; readonly reason: string };

export const ReplyError = {
  /** 2PC: the participant votes NO. */
  VoteNo: 'VoteNo',
  /** Saga: the action failed for good (compensate). */
  ActionFailed: 'ActionFailed',
  /** A compensation or phase-two step failed; the coordinator retries it. */
  StepFailed: 'StepFailed',
  /** The message contradicts what was recorded (e.g. commit after abort): a protocol violation. */
  Conflict: 'Conflict',
} as const;
export type ReplyError = (typeof ReplyError)[keyof typeof ReplyError];

export type StepPlan =
  /** Run the handler for this phase; on success record `onSuccess`, if it declines record `onDecline`. */
  | {
      readonly kind: 'run';
      readonly expected: ParticipantRecord | undefined;
      readonly onSuccess: ParticipantState;
      readonly onDecline?: ParticipantState;
    }
  /** Record `state` without running a handler (a tombstone, or a no-op transition). */
  | { readonly kind: 'record'; readonly expected: ParticipantRecord | undefined; readonly state: ParticipantState; readonly reply: Reply }
  /** Nothing to change: answer from the record. */
  | { readonly kind: 'reply'; readonly reply: Reply; readonly duplicate: boolean };

const yes: Reply = { kind: 'success', vote: 'YES' };
const done: Reply = { kind: 'success' };
const fail = (error: ReplyError, reason: string): Reply => ({ kind: 'failure', error, reason });

export function planStep(record: ParticipantRecord | undefined, message: CoordinatorMessage): StepPlan {
  const { phase, epoch } = message;
  const stale = record !== undefined && record.epoch > epoch;
  switch (phase) {
    case Phase.Prepare:
      if (!record) return { kind: 'run', expected: undefined, onSuccess: ParticipantState.Prepared, onDecline: ParticipantState.Aborted };
      if (stale)
        return { kind: 'reply', reply: fail(ReplyError.VoteNo, `stale prepare (epoch ${epoch} < ${record.epoch})`), duplicate: true };
      if (record.state === ParticipantState.Prepared || record.state === ParticipantState.Committed)
        return { kind: 'reply', reply: yes, duplicate: true };
      // Aborted (a NO vote, or an abort that overtook this prepare): never prepare after that.
      return { kind: 'reply', reply: fail(ReplyError.VoteNo, record.reason ?? 'already aborted'), duplicate: true };

    case Phase.Commit:
      if (record?.state === ParticipantState.Prepared) return { kind: 'run', expected: record, onSuccess: ParticipantState.Committed };
      if (record?.state === ParticipantState.Committed) return { kind: 'reply', reply: done, duplicate: true };
      return { kind: 'reply', reply: fail(ReplyError.Conflict, `commit while ${record?.state ?? 'unprepared'}`), duplicate: false };

    case Phase.Abort:
      if (!record) return { kind: 'record', expected: undefined, state: ParticipantState.Aborted, reply: done };
      if (record.state === ParticipantState.Prepared) return { kind: 'run', expected: record, onSuccess: ParticipantState.Aborted };
      if (record.state === ParticipantState.Aborted) return { kind: 'reply', reply: done, duplicate: true };
      return { kind: 'reply', reply: fail(ReplyError.Conflict, `abort while ${record.state}`), duplicate: false };

    case Phase.Action:
      if (!record) return { kind: 'run', expected: undefined, onSuccess: ParticipantState.Done, onDecline: ParticipantState.Failed };
      if (stale)
        return { kind: 'reply', reply: fail(ReplyError.ActionFailed, `stale action (epoch ${epoch} < ${record.epoch})`), duplicate: true };
      if (record.state === ParticipantState.Done) return { kind: 'reply', reply: done, duplicate: true };
      // Failed, or compensated before this action arrived: the action must not run any more.
      return {
        kind: 'reply',
        reply: fail(ReplyError.ActionFailed, record.reason ?? `action ${record.state.toLowerCase()}`),
        duplicate: true,
      };

    case Phase.Compensate:
      // Compensate even when the action's reply was lost: its effect may have landed.
      if (!record) return { kind: 'record', expected: undefined, state: ParticipantState.Compensated, reply: done };
      if (record.state === ParticipantState.Done) return { kind: 'run', expected: record, onSuccess: ParticipantState.Compensated };
      if (record.state === ParticipantState.Failed)
        return { kind: 'record', expected: record, state: ParticipantState.Compensated, reply: done };
      if (record.state === ParticipantState.Compensated) return { kind: 'reply', reply: done, duplicate: true };
      return { kind: 'reply', reply: fail(ReplyError.Conflict, `compensate while ${record.state}`), duplicate: false };
  }
}

/** The reply for a handler run that did its part (phase one: YES; any other phase: done). */
export function replyAfterRun(phase: Phase): Reply {
  return phase === Phase.Prepare ? yes : done;
}

/** What a handler's refusal (`{ decline }`) comes to: a refusal recorded and answered, or a step to retry. */
export type DeclinePlan =
  | { readonly kind: 'record'; readonly state: ParticipantState; readonly reply: Reply }
  | { readonly kind: 'retry'; readonly reply: Reply };

/**
 * A handler that declines. In phase one (the plan has an `onDecline`) that is an answer: record
 * `onDecline` (ABORTED after a NO vote, FAILED after an action that failed for good) and reply
 * VoteNo / ActionFailed. A commit, an abort or a compensation follows a decision already written
 * and cannot be refused: nothing is recorded (a YES voter stays PREPARED, T3; a done action stays
 * DONE) and the reply is StepFailed, which the coordinator retries and, for a compensation, parks
 * when retries run out (T5), as when the handler throws.
 */
export function planDecline(plan: Extract<StepPlan, { kind: 'run' }>, phase: Phase, reason: string): DeclinePlan {
  if (plan.onDecline === undefined) return { kind: 'retry', reply: fail(ReplyError.StepFailed, reason) };
  return {
    kind: 'record',
    state: plan.onDecline,
    reply: fail(phase === Phase.Prepare ? ReplyError.VoteNo : ReplyError.ActionFailed, reason),
  };
}

/** T3: states a participant cannot leave on its own: it voted YES and waits for the decision. */
export function isInDoubt(record: ParticipantRecord | undefined): boolean {
  return record?.state === ParticipantState.Prepared;
}

/**
 * Phase one (a 2PC prepare, a saga action) answers a refusal as data: a NO vote, an action that
 * failed for good. Any other phase that fails has to be done again (phase two follows a decision
 * already written; a compensation must not be skipped), so its failure is an error to retry.
 */
export function answersWithRefusal(phase: Phase): boolean {
  return phase === Phase.Prepare || phase === Phase.Action;
}

/** What the runtime may assume a phase finds before it has read anything. */
export type PresumedRecord = { readonly presumed: true; readonly record: ParticipantRecord | undefined } | { readonly presumed: false };

/**
 * The record a phase's first delivery finds on the path every transaction takes when nothing
 * fails: a prepare or an action finds none; a commit finds the prepare's record at its own epoch.
 * The runtime writes against this presumption without reading first. The write is conditional on
 * it, so a wrong presumption (a duplicate, a replay, a recovery at a later epoch) costs a cancelled
 * write and then a read, never a wrong transition (T4). Abort and compensate are not presumed:
 * they follow a NO vote or a failed action, which often left another state, and a cancelled
 * two-item transaction costs more than the read it saves.
 */
export function presumedRecord(message: CoordinatorMessage): PresumedRecord {
  switch (message.phase) {
    case Phase.Prepare:
    case Phase.Action:
      return { presumed: true, record: undefined };
    case Phase.Commit:
      return { presumed: true, record: { state: ParticipantState.Prepared, epoch: message.epoch } };
    case Phase.Abort:
    case Phase.Compensate:
      return { presumed: false };
  }
}
