/**
 * DESIGN.md "HTTP API (v1)": the example bank (accounts, transfers) and the coordinator's view.
 *
 * A transfer is started without reading the accounts: whether they exist and hold the money is
 * the participants' business (a missing account or insufficient funds is a NO vote in 2PC, a
 * failed action in a saga), and a read here would be a check-then-act race that guarantees
 * nothing. So POST /v1/transfers costs one coordinator write, and a transfer from an unknown
 * account is accepted (202) and ends ABORTED with the reason "no account ...".
 */
import { NotFoundError, ValidationError } from 'concord-aws';
import type { ExecutionInput, TransactionView } from 'concord-aws/tx';
import { ErrorCode } from './errors.js';
import type { ApiDeps } from './ports.js';
import { type AnyRoute, route } from './route.js';
import {
  accountParams,
  accountReadResponse,
  accountResponse,
  type BankName,
  openAccountBody,
  strongByDefault,
  type TransferBody,
  type TransferLegPayload,
  transactionParams,
  transactionViewResponse,
  transferAcceptedResponse,
  transferBody,
  transferLegPayload,
  transferModeSchema,
  transferViewResponse,
} from './schemas.js';
import { readableAbortReason } from './transfer-reason.js';

export function bankRoutes(deps: ApiDeps): AnyRoute[] {
  const { banks, coordinator, transferTypes, expressTransferTypes } = deps;
  const transferTypeNames = new Set<string>([...Object.values(transferTypes), ...Object.values(expressTransferTypes ?? {})]);

  /** The transaction type a transfer runs as: its mode on its engine (express when it waits). */
  function typeOf(transfer: TransferBody): string {
    const engine = transfer.engine ?? (transfer.wait ? 'express' : 'standard');
    if (engine === 'standard') return transferTypes[transfer.mode];
    if (!expressTransferTypes) throw new ValidationError('engine', 'this deployment runs transfers on the standard engine only');
    return expressTransferTypes[transfer.mode];
  }

  /** Definition order (transferDefinition): `debit` then `credit`. Both addresses: the type's engine picks one. */
  function legsOf(transfer: TransferBody): ExecutionInput['participants'] {
    const leg = (name: 'debit' | 'credit', bank: BankName, accountId: string) => {
      const payload: TransferLegPayload = { kind: name, accountId, amount: transfer.amount, bank };
      const { queueUrl, functionName } = banks[bank];
      return { name, queueUrl, ...(functionName !== undefined ? { functionName } : {}), payload };
    };
    return [leg('debit', transfer.from.bank, transfer.from.id), leg('credit', transfer.to.bank, transfer.to.id)];
  }

  async function legView(txId: string, participant: TransactionView['participants'][number]) {
    const leg = transferLegPayload.safeParse(participant.payload);
    // A transfer started by other means (a benchmark, a test) may not name its banks.
    if (!leg.success) return { name: participant.name, bank: null, accountId: null, amount: null, state: null };
    const record = await banks[leg.data.bank].participant.record(txId, participant.name);
    return {
      name: participant.name,
      bank: leg.data.bank,
      accountId: leg.data.accountId,
      amount: leg.data.amount,
      state: record?.state ?? null,
    };
  }

  return [
    route({
      method: 'post',
      path: '/v1/accounts',
      operationId: 'openAccount',
      summary: 'Open an account with an opening balance (minor units).',
      tag: 'bank',
      body: openAccountBody,
      success: { status: 201, description: 'Opened.', schema: accountResponse },
      errors: [ErrorCode.Conflict],
      handle: async ({ body }) => {
        // The "account opened" event joins the account's own write (transactional outbox, Q7).
        const alsoWrite = deps.accountEvents
          ? await deps.accountEvents({ type: 'account-opened', bank: body.bank, id: body.id, balance: body.balance })
          : [];
        const account = await banks[body.bank].bank.open(body.id, body.balance, { alsoWrite });
        return { bank: body.bank, id: account.id, balance: account.balance, held: account.held };
      },
    }),
    route({
      method: 'get',
      path: '/v1/accounts/{bank}/{id}',
      operationId: 'getAccount',
      summary: 'Balance and the amount held by prepared 2PC transfers (not spendable).',
      tag: 'bank',
      params: accountParams,
      query: strongByDefault,
      success: { status: 200, description: 'The account.', schema: accountReadResponse },
      errors: [ErrorCode.NotFound],
      handle: async ({ params, query }) => {
        const account = await banks[params.bank].bank.account(params.id, query.consistency === 'strong');
        return { bank: params.bank, id: account.id, balance: account.balance, held: account.held, consistency: query.consistency };
      },
    }),
    route({
      method: 'post',
      path: '/v1/transfers',
      operationId: 'startTransfer',
      summary:
        'Start a transfer (2PC on the standard engine by default; `"wait": true` runs it on the express engine and answers when it ended). A repeated `transferId` returns the transfer started first.',
      tag: 'bank',
      body: transferBody,
      rules: ['`to` must be a different account from `from`', '`"wait": true` needs the express engine (`engine` left out or `express`)'],
      success: {
        status: 202,
        description:
          'Started; poll GET /v1/transfers/{id} for the outcome. With `"wait": true`, answered once the transfer ended: `status` is final (PENDING only if the run was cut short; the sweeper finishes it).',
        schema: transferAcceptedResponse,
      },
      errors: [],
      handle: async ({ body }) => {
        const transferId = body.transferId ?? deps.newId();
        const started = await coordinator.start(typeOf(body), transferId, legsOf(body), { wait: body.wait });
        return { transferId: started.txId, status: started.status, duplicate: started.duplicate };
      },
    }),
    route({
      method: 'get',
      path: '/v1/transfers/{id}',
      operationId: 'getTransfer',
      summary: "A transfer's status, why it aborted, and each leg's state in its bank.",
      tag: 'bank',
      params: transactionParams,
      query: strongByDefault,
      success: { status: 200, description: 'The transfer.', schema: transferViewResponse },
      errors: [ErrorCode.NotFound],
      handle: async ({ params, query }) => {
        const view = await coordinator.view(params.id, { consistent: query.consistency === 'strong' });
        if (!transferTypeNames.has(view.type)) throw new NotFoundError(`no transfer ${JSON.stringify(params.id)}`);
        // Participant records are always read strongly (Participant.record has no eventual read):
        // the answer is at least as fresh as the consistency it reports.
        const participants = await Promise.all(view.participants.map((p) => legView(view.txId, p)));
        const reason = view.decision === 'ABORT' ? readableAbortReason(view.decisionReason) : undefined;
        return {
          transferId: view.txId,
          status: view.status,
          mode: transferModeSchema.parse(view.mode),
          ...(reason !== undefined ? { reason } : {}),
          participants,
          createdAt: view.createdAt,
          ...(view.completedAt !== undefined ? { completedAt: view.completedAt } : {}),
          consistency: query.consistency,
        };
      },
    }),
    route({
      method: 'get',
      path: '/v1/transactions/{id}',
      operationId: 'getTransaction',
      summary: "The coordinator's view of any transaction: participants, decision, timestamps.",
      tag: 'transactions',
      params: transactionParams,
      query: strongByDefault,
      success: { status: 200, description: 'The transaction record.', schema: transactionViewResponse },
      errors: [ErrorCode.NotFound],
      handle: async ({ params, query }) => {
        const view = await coordinator.view(params.id, { consistent: query.consistency === 'strong' });
        return {
          ...view,
          participants: view.participants.map((p) => ({ name: p.name, payload: p.payload })),
          consistency: query.consistency,
        };
      },
    }),
  ];
}
