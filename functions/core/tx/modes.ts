/**
 * The protocol and the engine of a transaction type, on their own (no schema library): the cost
 * model and the operators' console, which runs in a browser, need the names and nothing else.
 */
export const TxMode = { TwoPhaseCommit: '2pc', Saga: 'saga' } as const;
export type TxMode = (typeof TxMode)[keyof typeof TxMode];

/**
 * Which Step Functions workflow type coordinates the transaction (DESIGN.md "Coordinator engines").
 * - `standard`: participants behind SQS queues answer task tokens; phases may wait long (holds of
 *   hours); $25 per million state transitions, exactly-once executions.
 * - `express`: participants are Lambda functions invoked synchronously (request/response); the
 *   whole execution must end within 5 minutes; billed per request and duration, no transitions;
 *   at-least-once executions (a duplicate run is harmless: the decision is one conditional write
 *   and every phase is idempotent per transaction, participant and epoch).
 */
export const TxEngine = { Standard: 'standard', Express: 'express' } as const;
export type TxEngine = (typeof TxEngine)[keyof typeof TxEngine];
