/**
 * The ways into a participant (adapters/tx/participant.ts): the Lambda handlers for both engines
 * (SQS batches with task tokens for the standard engine, direct invocations for the express one,
 * a schedule for in-doubt resolution) and an in-process SQS worker for tests and local runs. Each
 * parses its event and calls `Participant.handle`; none decides anything of the protocol.
 */
import { DeleteMessageBatchCommand, type Message, ReceiveMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { PhaseStepFailed } from '../../core/tx/errors.js';
import { answersWithRefusal, type Phase, type ReplyError } from '../../core/tx/participant-state.js';
import { type CoordinatorEnvelope, coordinatorMessageSchema, failureCause, type Participant } from './participant.js';

/**
 * An in-process SQS worker for a participant (tests, local runs): receive, handle, delete.
 * A message whose handling throws is left in the queue and comes back after its visibility
 * timeout (a crash at P1–P3). On AWS the same `Participant.handle` runs in an SQS-triggered
 * Lambda with partial batch responses (handlers/participant.ts).
 */
export async function runParticipantWorker(options: {
  readonly participant: Participant<unknown>;
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly signal: AbortSignal;
  readonly visibilityTimeoutSeconds?: number;
  readonly onError?: (error: unknown) => void;
}): Promise<void> {
  while (!options.signal.aborted) {
    let messages: Message[] = [];
    try {
      ({ Messages: messages = [] } = await options.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: options.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
          VisibilityTimeout: options.visibilityTimeoutSeconds ?? 5,
        }),
        { abortSignal: options.signal },
      ));
    } catch (error) {
      if (options.signal.aborted) return;
      options.onError?.(error);
      continue;
    }
    const done: Array<{ Id: string; ReceiptHandle: string }> = [];
    await Promise.all(
      messages.map(async (m, i) => {
        try {
          await options.participant.handle(m.Body ?? '');
          if (m.ReceiptHandle) done.push({ Id: String(i), ReceiptHandle: m.ReceiptHandle });
        } catch (error) {
          options.onError?.(error);
        }
      }),
    );
    if (done.length > 0 && !options.signal.aborted) {
      await options.sqs.send(new DeleteMessageBatchCommand({ QueueUrl: options.queueUrl, Entries: done })).catch(options.onError);
    }
  }
}

/** The SQS event a Lambda receives (the fields used here). */
export interface SqsBatchEvent {
  readonly Records: ReadonlyArray<{ readonly messageId: string; readonly body: string }>;
}

/**
 * The participant as an SQS-triggered Lambda handler with partial batch responses
 * (ReportBatchItemFailures): a message whose handling throws is reported and comes back after the
 * queue's visibility timeout; the others are deleted. Messages of one batch run concurrently.
 */
export function sqsBatchHandler(participant: Pick<Participant<unknown>, 'handle'>) {
  return async (event: SqsBatchEvent): Promise<{ batchItemFailures: Array<{ itemIdentifier: string }> }> => {
    const results = await Promise.allSettled(event.Records.map((record) => participant.handle(record.body)));
    return {
      batchItemFailures: results.flatMap((result, i) =>
        result.status === 'rejected' ? [{ itemIdentifier: (event.Records[i] as { messageId: string }).messageId }] : [],
      ),
    };
  };
}

/**
 * What a directly invoked participant answers the express state machine: a YES vote or a done
 * step, or a refusal of phase one (a NO vote, an action that failed for good) with the cause in
 * the shape the standard engine's SendTaskFailure carries.
 */
export type DirectReply =
  | { readonly ok: true; readonly participant: string; readonly phase: Phase; readonly vote?: 'YES' }
  | { readonly ok: false; readonly error: ReplyError; readonly cause: string };

/**
 * The participant as a Lambda the express state machine invokes synchronously (`lambda:invoke`).
 * The event is the envelope itself (no task token). A refusal in phase one is returned as data,
 * which the state machine routes; a failure of phase two or of a compensation is thrown
 * (`PhaseStepFailed`), so that the state's Retry runs it again and, for a compensation, parks it
 * when the retries run out (T5). Errors `handle` throws (contention, a crash) propagate the same way.
 */
export function directInvokeHandler(participant: Pick<Participant<unknown>, 'handle'>) {
  return async (event: CoordinatorEnvelope): Promise<DirectReply> => {
    const message = coordinatorMessageSchema.parse(event);
    const { reply } = await participant.handle(message);
    if (!reply || reply.kind === 'success') {
      return { ok: true, participant: message.participant, phase: message.phase, ...(reply?.vote ? { vote: reply.vote } : {}) };
    }
    if (answersWithRefusal(message.phase)) return { ok: false, error: reply.error, cause: failureCause(message, reply.reason) };
    throw new PhaseStepFailed(message.txId, message.participant, message.phase, reply.error, reply.reason);
  };
}

/** What EventBridge sends a Lambda on a schedule. */
export interface ScheduledEvent {
  readonly source: 'aws.events';
  readonly 'detail-type': 'Scheduled Event';
}

function isScheduledEvent(event: unknown): event is ScheduledEvent {
  const e = event as Partial<ScheduledEvent> | undefined;
  return e?.source === 'aws.events' && e['detail-type'] === 'Scheduled Event';
}

function isSqsBatchEvent(event: unknown): event is SqsBatchEvent {
  return Array.isArray((event as Partial<SqsBatchEvent> | undefined)?.Records);
}

/**
 * The participant's Lambda entry point, for both engines: phase messages from SQS
 * (`sqsBatchHandler`, the standard engine), a direct invocation carrying one envelope
 * (`directInvokeHandler`, the express engine), and, on a schedule, in-doubt resolution (T3):
 * transactions held PREPARED for longer than `inDoubtAfterMs` are settled from the coordinator's
 * decision record. Phase two normally arrives by message or invocation (a recovery run sends it
 * again); this covers one that was lost all the same.
 */
export function participantLambdaHandler(
  participant: Pick<Participant<unknown>, 'handle' | 'resolveInDoubt'>,
  options: { readonly inDoubtAfterMs: number },
) {
  const batch = sqsBatchHandler(participant);
  const direct = directInvokeHandler(participant);
  return async (event: SqsBatchEvent | ScheduledEvent | CoordinatorEnvelope) => {
    if (isScheduledEvent(event)) return { resolved: (await participant.resolveInDoubt(options.inDoubtAfterMs)).length };
    if (isSqsBatchEvent(event)) return batch(event);
    return direct(event);
  };
}
