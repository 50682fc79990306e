/**
 * The coordinator's table, drawn once: every key and attribute name the state machines (asl.ts),
 * the coordinator, the sweeper and the participants use for transaction records live here, so that
 * a field cannot be spelled two ways in two layers.
 *
 * | item                   | pk                  | sk                 | written by                                  |
 * |------------------------|---------------------|--------------------|---------------------------------------------|
 * | transaction record     | `TX#<txId>`         | `tx`               | Coordinator.start; the state machine (decision, status); the sweeper (epoch, presumed abort) |
 * | parked compensation    | `PARKED`            | `<txId>#<participant>` | the saga state machine (T5)             |
 * | sweeper leader lease   | `LEASE#<role>`      | `lease`            | Sweeper.lead (E1)                           |
 *
 * and in each participant's own table:
 *
 * | participant record     | `TXP#<bucket>`      | `<txId>#<participant>` | Participant, with the phase's own writes |
 *
 * While a transaction is open its record carries `ob`/`dl`, the keys of the sparse `open` index
 * the sweeper queries; marking the final status removes `ob`. Every record carries `ls` (its status)
 * and `createdAt`, the keys of the `by-status` index that lists transactions newest first; the
 * status marks set `ls` with `status`. `lg` is the record's log of what happened to it besides its
 * own run (recoveries, operator retries, the parkings a retry cleared), and each participant
 * record keeps `h`, the history of the phases it applied (core/tx/timeline.ts reads both).
 */

export const TX_RECORD_PREFIX = 'TX#';
export const TX_RECORD_SORT_KEY = 'tx';

/** Key attributes of every Concord table (the CDK constructs define them). */
export const KeyAttr = { pk: 'pk', sk: 'sk' } as const;

/** The transaction record's attributes. */
export const TxField = {
  txId: 'txId',
  type: 'type',
  mode: 'mode',
  engine: 'engine',
  status: 'status',
  /** The attempt: 1 for the first run, raised by every recovery (T4: participants refuse older prepares). */
  epoch: 'epoch',
  createdAt: 'createdAt',
  /** What the transaction's view shows as its deadline (ms since epoch). */
  deadline: 'deadline',
  /** The open index's partition key (a bucket); present only while the transaction is open. */
  openBucket: 'ob',
  /** The open index's sort key: the deadline the sweeper compares with its clock. */
  openDeadline: 'dl',
  /** The execution input (JSON), so that the sweeper can start a recovery run. */
  input: 'input',
  /** Tells our own put, applied with its response lost, from someone else's (Q3). */
  startNonce: 'startNonce',
  completedAt: 'completedAt',
  recoveries: 'recoveries',
  /** The `by-status` index's partition key: the status, kept equal to `status` by every status write. */
  listStatus: 'ls',
  /** Recoveries and operator retries, in order (a list of maps: LogEntry, core/tx/timeline.ts). */
  log: 'lg',
} as const;

/**
 * The decision (T2): written once, by one conditional write, before phase two starts: by the
 * state machine (`Decide COMMIT` / `Decide ABORT`) or, with no decision by the deadline, by the
 * sweeper's presumed abort. Both render the same assignment and the same condition from here.
 */
export const DecisionField = {
  decision: 'decision',
  decidedAt: 'decidedAt',
  decidedEpoch: 'decidedEpoch',
  decisionReason: 'decisionReason',
} as const;

/** The expression placeholders the decision's assignment uses: each writer binds these four values. */
export const DecisionValue = {
  decision: ':decision',
  decidedAt: ':decidedAt',
  decidedEpoch: ':decidedEpoch',
  reason: ':decisionReason',
} as const;

/** T2's clause: the write applies only while no decision is recorded. */
export const DECISION_NOT_WRITTEN = `attribute_not_exists(${DecisionField.decision})`;

/** `decision = :decision, decidedAt = :decidedAt, …`: the SET clauses of the decision write (without `SET`). */
export const DECISION_ASSIGNMENTS = [
  `${DecisionField.decision} = ${DecisionValue.decision}`,
  `${DecisionField.decidedAt} = ${DecisionValue.decidedAt}`,
  `${DecisionField.decidedEpoch} = ${DecisionValue.decidedEpoch}`,
  `${DecisionField.decisionReason} = ${DecisionValue.reason}`,
].join(', ');

export const txRecordPk = (txId: string): string => `${TX_RECORD_PREFIX}${txId}`;
/** The transaction id of a record's partition key (what the open index returns). */
export const txIdOfRecordPk = (pk: string): string => (pk.startsWith(TX_RECORD_PREFIX) ? pk.slice(TX_RECORD_PREFIX.length) : pk);

export const OPEN_INDEX = 'open';
/** Lists transactions by status, newest first (keys: `ls`, `createdAt`; KEYS_ONLY). */
export const STATUS_INDEX = 'by-status';
export const OPEN_BUCKETS = 8;
export const openBucketName = (bucket: number): string => `OPEN#${bucket}`;

export const PARKED_PK = 'PARKED';
/** A parked compensation's attributes (asl.ts writes them). */
export const ParkedField = { txId: 'txId', participant: 'participant', error: 'error', parkedAt: 'parkedAt' } as const;
export const parkedSk = (txId: string, participant: string): string => `${txId}#${participant}`;

export const leasePk = (role: string): string => `LEASE#${role}`;
export const LEASE_SORT_KEY = 'lease';
/** The lease item's attributes (election.ts decides; these name them). */
export const LeaseField = { holder: 'holder', until: 'until', fence: 'fence' } as const;

/** Participant records are bucketed so that in-doubt ones can be listed without a scan. */
export const PARTICIPANT_RECORD_BUCKETS = 8;
export const participantRecordPk = (bucket: number): string => `TXP#${bucket}`;
export const participantRecordSk = (txId: string, participant: string): string => `${txId}#${participant}`;
