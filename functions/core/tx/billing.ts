/**
 * How many state transitions an execution of the generated state machine bills (Step Functions
 * Standard: $0.025 per 1,000), by the path it takes. Counted from the ASL of asl.ts: every state
 * entered, those inside Parallel branches included. Retries add one per attempt (not counted here).
 *
 * Used by the benchmark because emulators' execution histories are incomplete (MiniStack records
 * no events inside Parallel branches).
 */
import { TxMode } from './modes.js';

export type ExecutionPath =
  /** 2PC where everyone voted YES, or a saga whose actions all succeeded. */
  | { readonly kind: 'commit' }
  /** 2PC aborted in phase one (a NO vote or a timeout). */
  | { readonly kind: 'abort' }
  /** A saga whose action at `failedAt` (0-based) failed. */
  | { readonly kind: 'saga-abort'; readonly failedAt: number };

/** Only the definition's mode and how many participants it has decide the count. */
export function stateTransitions(
  definition: { readonly mode: TxMode; readonly participants: readonly unknown[] },
  path: ExecutionPath,
): number {
  const n = definition.participants.length;
  if (definition.mode === TxMode.TwoPhaseCommit) {
    // Route, Prepare, n prepares, Decide, Commit|Abort, n phase-two tasks, Mark, Done.
    return 2 * n + 6;
  }
  if (path.kind === 'commit') return n + 4; // Route, n actions, Decide COMMIT, Mark, Done
  const ran = (path.kind === 'saga-abort' ? path.failedAt : n - 1) + 1;
  // Route, the actions that ran, "failed at", Decide ABORT, n ladder choices, a compensation per
  // step that ran, "Aborted or stuck?", Mark, Done.
  return 1 + ran + 1 + 1 + n + ran + 1 + 1 + 1;
}
