/**
 * The operators' transaction routes (docs/operators-api.md): the listing by status, one
 * transaction's timeline, and the retry of a STUCK transaction's parked compensations.
 */
import { ContentionError } from 'concord-aws/queue';
import { buildTimeline, type PhaseEntry, type TransactionView } from 'concord-aws/tx';
import { ErrorCode } from './errors.js';
import type { ApiDeps } from './ports.js';
import { type AnyRoute, route } from './route.js';
import {
  listTransactionsQuery,
  listTransactionsResponse,
  retryResponse,
  timelineQuery,
  timelineResponse,
  transactionParams,
  transferLegPayload,
} from './schemas.js';

const tag = 'transactions';
const iso = (ms: number) => new Date(ms).toISOString();

export function transactionRoutes(deps: ApiDeps): AnyRoute[] {
  const { coordinator, banks } = deps;

  /**
   * A participant's applied phases, from its own record in its service. The API reaches the
   * example banks' records (a leg's payload names its bank); any other participant shows none.
   */
  async function historyOf(txId: string, participant: TransactionView['participants'][number]): Promise<readonly PhaseEntry[]> {
    const leg = transferLegPayload.safeParse(participant.payload);
    if (!leg.success) return [];
    return (await banks[leg.data.bank].participant.record(txId, participant.name))?.history ?? [];
  }

  return [
    route({
      method: 'get',
      path: '/v1/transactions',
      operationId: 'listTransactions',
      summary:
        'Transactions in one `status` (default PENDING), newest first, a page at a time: a query of the sparse by-status index (eventually consistent), never a scan.',
      tag,
      query: listTransactionsQuery,
      rules: ['`cursor` must be a `nextCursor` this listing returned (an opaque token)'],
      success: { status: 200, description: 'One page.', schema: listTransactionsResponse },
      errors: [],
      handle: async ({ query }) => {
        const page = await coordinator.list({
          status: query.status,
          ...(query.limit !== undefined ? { limit: query.limit } : {}),
          ...(query.cursor !== undefined ? { cursor: query.cursor } : {}),
        });
        return {
          transactions: page.transactions.map((t) => ({
            txId: t.txId,
            type: t.type,
            mode: t.mode,
            engine: t.engine ?? 'standard',
            status: t.status,
            createdAt: t.createdAt,
            ...(t.completedAt !== undefined ? { completedAt: t.completedAt } : {}),
            participants: t.participants.map((p) => p.name),
          })),
          ...(page.nextCursor !== undefined ? { nextCursor: page.nextCursor } : {}),
          consistency: query.consistency,
        };
      },
    }),
    route({
      method: 'get',
      path: '/v1/transactions/{id}/timeline',
      operationId: 'getTransactionTimeline',
      summary:
        "One transaction's events in time order: started, each participant's vote or action, the decision, each phase-two step, recoveries, operator retries, parkings, completion (strongly consistent reads).",
      tag,
      params: transactionParams,
      query: timelineQuery,
      success: { status: 200, description: 'The timeline.', schema: timelineResponse },
      errors: [ErrorCode.NotFound],
      handle: async ({ params, query }) => {
        const { view, sources } = await coordinator.timelineSources(params.id);
        const participants = await Promise.all(
          view.participants.map(async (p) => ({ name: p.name, history: await historyOf(view.txId, p) })),
        );
        const events = buildTimeline({ ...sources, participants });
        return {
          txId: view.txId,
          type: view.type,
          mode: view.mode,
          engine: view.engine ?? 'standard',
          status: view.status,
          events: events.map((e) => ({ ...e, at: iso(e.at) })),
          consistency: query.consistency,
        };
      },
    }),
    route({
      method: 'post',
      path: '/v1/transactions/{id}/retry',
      operationId: 'retryTransaction',
      summary:
        "Retry a STUCK transaction's parked compensations: a recovery run at the next epoch, fenced as the sweeper's recoveries are (a lease with a fencing token, and a write conditional on the epoch).",
      tag,
      params: transactionParams,
      success: { status: 202, description: 'The recovery run started; the transaction is PENDING until it ends.', schema: retryResponse },
      errors: [ErrorCode.NotFound, ErrorCode.Conflict],
      handle: async ({ params }) => {
        if (!deps.operator) throw new ContentionError('this deployment has no operator role configured: retries are unavailable');
        return deps.operator.retryStuck(params.id);
      },
    }),
  ];
}
