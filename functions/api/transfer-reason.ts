/**
 * The coordinator records why it aborted as the Step Functions error it caught, serialized:
 * `{"Error":"VoteNo","Cause":"{\"participant\":\"debit\",\"phase\":\"prepare\",\"reason\":\"insufficient funds\"}"}`
 * (a participant's SendTaskFailure, core/tx/asl.ts `Decide ABORT`), `{"Error":"States.Timeout",...}`
 * (nobody answered), or the sweeper's `{"Error":"PresumedAbort","Cause":"no decision by the deadline; ..."}`.
 * A person wants the innermost sentence.
 */
const MAX_REASON_CHARS = 500;

export function readableAbortReason(decisionReason: string | undefined): string | undefined {
  if (decisionReason === undefined || decisionReason === '') return undefined;
  const failure = parseObject(decisionReason);
  if (!failure) return clip(decisionReason);
  const error = typeof failure.Error === 'string' ? failure.Error : undefined;
  const cause = typeof failure.Cause === 'string' ? failure.Cause : undefined;
  const participantReply = cause !== undefined ? parseObject(cause) : undefined;
  if (typeof participantReply?.reason === 'string') return clip(participantReply.reason);
  if (error === 'States.Timeout') return 'a participant did not answer in time';
  return clip(cause || error || decisionReason);
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

const clip = (text: string) => (text.length > MAX_REASON_CHARS ? `${text.slice(0, MAX_REASON_CHARS)}…` : text);
