import { describe, expect, it } from 'vitest';
import { createApp } from '../../../functions/api/app.js';
import {
  accountReadResponse,
  accountResponse,
  transactionViewResponse,
  transferAcceptedResponse,
  transferViewResponse,
} from '../../../functions/api/schemas.js';
import { readableAbortReason } from '../../../functions/api/transfer-reason.js';
import { fakeWorld } from './fakes.js';
import { call } from './http.js';

function given() {
  const world = fakeWorld();
  const app = createApp(world.deps);
  const transfer = (json: unknown) => call(app, 'POST', '/v1/transfers', { json });
  return { ...world, app, transfer };
}

const voteNo = JSON.stringify({
  Error: 'VoteNo',
  Cause: JSON.stringify({ participant: 'debit', phase: 'prepare', reason: 'insufficient funds' }),
});

describe('HTTP API: the example bank', () => {
  describe('POST /v1/accounts', () => {
    it('opens an account in the named bank: 201 {bank, id, balance, held}', async () => {
      const { app, bankB } = given();
      const reply = await call(app, 'POST', '/v1/accounts', { json: { bank: 'bank-b', id: 'alice', balance: 1000 } });
      expect(reply.status).toBe(201);
      expect(accountResponse.parse(reply.body)).toEqual({ bank: 'bank-b', id: 'alice', balance: 1000, held: 0 });
      expect(bankB.bank.accounts.get('alice')?.balance).toBe(1000);
    });

    it('answers 409 for an account that exists', async () => {
      const { app } = given();
      await call(app, 'POST', '/v1/accounts', { json: { bank: 'bank-a', id: 'alice', balance: 1 } });
      const again = await call(app, 'POST', '/v1/accounts', { json: { bank: 'bank-a', id: 'alice', balance: 1 } });
      expect(again.status).toBe(409);
      expect(again.body.error.code).toBe('Conflict');
    });

    it.each([
      [{ bank: 'bank-c', id: 'a', balance: 1 }, 'bank'],
      [{ bank: 'bank-a', id: 'no spaces', balance: 1 }, 'id'],
      [{ bank: 'bank-a', id: 'a', balance: -1 }, 'balance'],
      [{ bank: 'bank-a', id: 'a', balance: 0.5 }, 'balance'],
      [{ bank: 'bank-a', id: 'a', balance: '10' }, 'balance'],
      [{ bank: 'bank-a', id: 'a' }, 'balance'],
      [{ bank: 'bank-a', id: 'a', balance: 1, currency: 'EUR' }, 'currency'],
    ])('answers 400 for %j naming %s, opening nothing', async (json, field) => {
      const { app, writes } = given();
      const reply = await call(app, 'POST', '/v1/accounts', { json });
      expect(reply.status).toBe(400);
      expect(reply.body.error.field).toBe(field);
      expect(writes()).toBe(0);
    });
  });

  describe('GET /v1/accounts/{bank}/{id}', () => {
    it('answers {balance, held} read strongly by default, and says so', async () => {
      const { app, bankA } = given();
      await call(app, 'POST', '/v1/accounts', { json: { bank: 'bank-a', id: 'alice', balance: 500 } });
      const reply = await call(app, 'GET', '/v1/accounts/bank-a/alice');
      expect(reply.status).toBe(200);
      expect(accountReadResponse.parse(reply.body)).toEqual({ bank: 'bank-a', id: 'alice', balance: 500, held: 0, consistency: 'strong' });
      expect(bankA.bank.reads).toEqual([{ id: 'alice', consistent: true }]);
    });

    it('reads eventually when asked', async () => {
      const { app, bankA } = given();
      await call(app, 'POST', '/v1/accounts', { json: { bank: 'bank-a', id: 'alice', balance: 500 } });
      const reply = await call(app, 'GET', '/v1/accounts/bank-a/alice?consistency=eventual');
      expect(reply.body.consistency).toBe('eventual');
      expect(bankA.bank.reads).toEqual([{ id: 'alice', consistent: false }]);
    });

    it('answers 404 for an unknown account, 400 for an unknown bank or a malformed id', async () => {
      const { app } = given();
      const missing = await call(app, 'GET', '/v1/accounts/bank-a/nobody');
      expect(missing.status).toBe(404);
      expect(missing.body.error.code).toBe('NotFound');
      expect((await call(app, 'GET', '/v1/accounts/bank-z/alice')).body.error.field).toBe('bank');
      expect((await call(app, 'GET', '/v1/accounts/bank-a/a%20b')).body.error.field).toBe('id');
    });
  });

  describe('POST /v1/transfers', () => {
    const body = { from: { bank: 'bank-a', id: 'alice' }, to: { bank: 'bank-b', id: 'bob' }, amount: 250 };

    it('starts a 2PC transfer by default: 202 {transferId, status}, legs debit then credit on each bank queue', async () => {
      const { transfer, coordinator } = given();
      const reply = await transfer(body);
      expect(reply.status).toBe(202);
      expect(transferAcceptedResponse.parse(reply.body)).toEqual({ transferId: 'id-1', status: 'PENDING', duplicate: false });
      const started = coordinator.transactions.get('id-1');
      expect(started?.view.type).toBe('transfer-2pc');
      expect(started?.input).toEqual([
        {
          name: 'debit',
          queueUrl: 'https://sqs.test/000/bank-a',
          payload: { kind: 'debit', accountId: 'alice', amount: 250, bank: 'bank-a' },
        },
        {
          name: 'credit',
          queueUrl: 'https://sqs.test/000/bank-b',
          payload: { kind: 'credit', accountId: 'bob', amount: 250, bank: 'bank-b' },
        },
      ]);
    });

    it('starts a saga when asked, under the caller transferId', async () => {
      const { transfer, coordinator } = given();
      const reply = await transfer({ ...body, mode: 'saga', transferId: 'tr_1' });
      expect(reply.body.transferId).toBe('tr_1');
      expect(coordinator.transactions.get('tr_1')?.view.type).toBe('transfer-saga');
    });

    it('answers a repeated transferId with the transfer started first (202, same id), starting nothing new', async () => {
      const { transfer, coordinator } = given();
      await transfer({ ...body, transferId: 'tr_1' });
      coordinator.finish('tr_1', 'COMMITTED', { decision: 'COMMIT', decisionReason: 'all participants voted YES' });
      const again = await transfer({ ...body, transferId: 'tr_1' });
      expect(again.status).toBe(202);
      expect(again.body).toEqual({ transferId: 'tr_1', status: 'COMMITTED', duplicate: true });
      expect(coordinator.writes).toBe(1);
    });

    it('allows two accounts of the same bank', async () => {
      const { transfer } = given();
      expect((await transfer({ ...body, to: { bank: 'bank-a', id: 'bob' } })).status).toBe(202);
    });

    it('accepts a transfer from an account it has not read: the participants refuse it (documented decision)', async () => {
      const { transfer, bankA } = given();
      expect((await transfer(body)).status).toBe(202);
      expect(bankA.bank.reads).toEqual([]);
    });

    it.each([
      [{ ...body, from: { bank: 'bank-c', id: 'alice' } }, 'from.bank'],
      [{ ...body, to: { bank: 'bank-b' } }, 'to.id'],
      [{ ...body, to: { bank: 'bank-b', id: 'bob', iban: 'x' } }, 'to.iban'],
      [{ ...body, to: body.from }, 'to'],
      [{ ...body, amount: 0 }, 'amount'],
      [{ ...body, amount: -5 }, 'amount'],
      [{ ...body, amount: 2.5 }, 'amount'],
      [{ ...body, amount: 2 ** 53 }, 'amount'],
      [{ ...body, mode: '3pc' }, 'mode'],
      [{ ...body, transferId: 'has space' }, 'transferId'],
      [{ ...body, transferId: 'x'.repeat(81) }, 'transferId'],
      [{ ...body, memo: 'hi' }, 'memo'],
    ])('answers 400 naming the field (%#: %s), starting nothing', async (json, field) => {
      const { transfer, writes } = given();
      const reply = await transfer(json);
      expect(reply.status).toBe(400);
      expect(reply.body.error.code).toBe('ValidationError');
      expect(reply.body.error.field).toBe(field);
      expect(writes()).toBe(0);
    });

    it('quotes the unknown bank', async () => {
      const { transfer } = given();
      const reply = await transfer({ ...body, from: { bank: 'bank-c', id: 'alice' } });
      expect(reply.body.error.message).toMatch(/^from\.bank: .*"bank-a".*got "bank-c"$/);
    });
  });

  describe('GET /v1/transfers/{id}', () => {
    async function started() {
      const world = given();
      await world.transfer({ from: { bank: 'bank-a', id: 'alice' }, to: { bank: 'bank-b', id: 'bob' }, amount: 250, transferId: 't1' });
      return world;
    }

    it('answers PENDING with each leg (bank, account, amount) and its state in its bank, null before it acted', async () => {
      const { app, bankA } = await started();
      bankA.participant.set('t1', 'debit', { state: 'PREPARED', epoch: 1 });
      const reply = await call(app, 'GET', '/v1/transfers/t1');
      expect(reply.status).toBe(200);
      expect(transferViewResponse.parse(reply.body)).toMatchObject({
        transferId: 't1',
        status: 'PENDING',
        mode: '2pc',
        consistency: 'strong',
        participants: [
          { name: 'debit', bank: 'bank-a', accountId: 'alice', amount: 250, state: 'PREPARED' },
          { name: 'credit', bank: 'bank-b', accountId: 'bob', amount: 250, state: null },
        ],
      });
      expect(reply.body.reason).toBeUndefined();
    });

    it('answers COMMITTED without a reason', async () => {
      const { app, coordinator, bankA, bankB } = await started();
      coordinator.finish('t1', 'COMMITTED', { decision: 'COMMIT', decisionReason: 'all participants voted YES' });
      bankA.participant.set('t1', 'debit', { state: 'COMMITTED', epoch: 1 });
      bankB.participant.set('t1', 'credit', { state: 'COMMITTED', epoch: 1 });
      const reply = await call(app, 'GET', '/v1/transfers/t1');
      expect(reply.body).toMatchObject({ status: 'COMMITTED', completedAt: expect.any(String) });
      expect(reply.body.reason).toBeUndefined();
      expect(reply.body.participants.map((p: { state: string }) => p.state)).toEqual(['COMMITTED', 'COMMITTED']);
    });

    it('answers ABORTED with a readable reason', async () => {
      const { app, coordinator } = await started();
      coordinator.finish('t1', 'ABORTED', { decision: 'ABORT', decisionReason: voteNo });
      const reply = await call(app, 'GET', '/v1/transfers/t1');
      expect(reply.body).toMatchObject({ status: 'ABORTED', reason: 'insufficient funds' });
    });

    it('reads the coordinator record eventually when asked, and says so', async () => {
      const { app, coordinator } = await started();
      const reply = await call(app, 'GET', '/v1/transfers/t1?consistency=eventual');
      expect(reply.body.consistency).toBe('eventual');
      expect(coordinator.viewCalls.at(-1)).toEqual({ txId: 't1', consistent: false });
    });

    it('answers 404 for an unknown transfer and for a transaction that is not a transfer', async () => {
      const { app, coordinator } = await started();
      expect((await call(app, 'GET', '/v1/transfers/nope')).status).toBe(404);
      const other = await coordinator.view('t1');
      coordinator.transactions.set('order-1', { view: { ...other, txId: 'order-1', type: 'order-saga' }, input: [] });
      const reply = await call(app, 'GET', '/v1/transfers/order-1');
      expect(reply.status).toBe(404);
      expect(reply.body.error.code).toBe('NotFound');
    });

    it('shows legs whose payload names no bank as unknown rather than failing', async () => {
      const { app, coordinator } = await started();
      const tx = coordinator.transactions.get('t1');
      if (!tx) throw new Error('no t1');
      tx.view = { ...tx.view, participants: [{ name: 'debit', payload: { kind: 'debit', accountId: 'a', amount: 1 } }] };
      const reply = await call(app, 'GET', '/v1/transfers/t1');
      expect(reply.status).toBe(200);
      expect(reply.body.participants).toEqual([{ name: 'debit', bank: null, accountId: null, amount: null, state: null }]);
    });

    it('answers 400 naming `id` for an id that cannot exist', async () => {
      const { app } = await started();
      expect((await call(app, 'GET', '/v1/transfers/a%20b')).body.error.field).toBe('id');
    });
  });

  describe('GET /v1/transactions/{id}', () => {
    it("answers the coordinator's view with the consistency served", async () => {
      const { app, transfer, coordinator } = given();
      await transfer({ from: { bank: 'bank-a', id: 'alice' }, to: { bank: 'bank-b', id: 'bob' }, amount: 5, transferId: 't1' });
      coordinator.finish('t1', 'ABORTED', { decision: 'ABORT', decisionReason: voteNo });
      const reply = await call(app, 'GET', '/v1/transactions/t1');
      expect(reply.status).toBe(200);
      const view = transactionViewResponse.parse(reply.body);
      expect(view).toMatchObject({
        txId: 't1',
        type: 'transfer-2pc',
        status: 'ABORTED',
        decision: 'ABORT',
        decisionReason: voteNo,
        consistency: 'strong',
      });
      expect(view.participants.map((p) => p.name)).toEqual(['debit', 'credit']);
      const eventual = await call(app, 'GET', '/v1/transactions/t1?consistency=eventual');
      expect(eventual.body.consistency).toBe('eventual');
      expect(coordinator.viewCalls.at(-1)).toEqual({ txId: 't1', consistent: false });
    });

    it('answers 404 for an unknown transaction', async () => {
      const { app } = given();
      const reply = await call(app, 'GET', '/v1/transactions/missing');
      expect(reply.status).toBe(404);
      expect(reply.body.error).toEqual({ code: 'NotFound', message: 'no transaction "missing"' });
    });
  });

  describe('readableAbortReason', () => {
    it.each([
      [voteNo, 'insufficient funds'],
      [
        JSON.stringify({
          Error: 'ActionFailed',
          Cause: JSON.stringify({ participant: 'debit', phase: 'action', reason: 'no account x in bank-a' }),
        }),
        'no account x in bank-a',
      ],
      [JSON.stringify({ Error: 'States.Timeout', Cause: '' }), 'a participant did not answer in time'],
      [JSON.stringify({ Error: 'States.Timeout' }), 'a participant did not answer in time'],
      [
        JSON.stringify({ Error: 'PresumedAbort', Cause: 'no decision by the deadline; recovered by s1' }),
        'no decision by the deadline; recovered by s1',
      ],
      [JSON.stringify({ Error: 'States.TaskFailed' }), 'States.TaskFailed'],
      ['a sentence', 'a sentence'],
      ['', undefined],
      [undefined, undefined],
    ])('reads %j as %j', (recorded, readable) => {
      expect(readableAbortReason(recorded)).toBe(readable);
    });
  });
});
