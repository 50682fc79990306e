import { FailFirstAttempt, FakeClock } from 'concord-aws/testing';
import {
  Coordinator,
  type CoordinatorEnvelope,
  type DirectReply,
  type ParticipantHandlers,
  type Reply,
  type RetryPolicy,
  type TxEngine,
  transactionBudgetSeconds,
} from 'concord-aws/tx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TransferLeg } from '../../functions/bank/bank.js';
import { transferDefinition } from '../../functions/bank/transfer.js';
import { dynamoClient, uniqueName } from '../support/aws.js';
import { txHarness } from '../support/tx-harness.js';

type Harness = Awaited<ReturnType<typeof txHarness>>;
const id = (p = 'tx') => uniqueName(p).replace(/[^A-Za-z0-9_-]/g, '');
const quickRetry: RetryPolicy = { maxAttempts: 3, intervalSeconds: 1, backoffRate: 1 };

/** Once per engine: the participant reached as that engine reaches it (SQS worker's handle, or a Lambda invocation). */
for (const engine of ['standard', 'express'] as const satisfies readonly TxEngine[]) {
  describe(`participant protocol, compensations and the sweeper, ${engine} engine (MiniStack)`, () => {
    let h: Harness;
    const definitions = [
      transferDefinition('2pc', { engine, timeoutSeconds: 10, completionRetry: quickRetry }),
      transferDefinition('saga', { engine, legs: 3, timeoutSeconds: 10, completionRetry: quickRetry }),
    ];
    const [twoPhase, saga3] = definitions.map((d) => d.name) as [string, string];
    beforeAll(async () => {
      h = await txHarness(definitions);
    });
    afterAll(() => h?.close());

    /**
     * A coordinator message delivered to a bank's participant the way `engine` delivers it:
     * standard, `handle` (what the SQS worker runs); express, an invocation of the bank's Lambda
     * through the emulator (what the state machine does). Both answer with the participant's reply.
     */
    async function deliver(bank: string, message: CoordinatorEnvelope): Promise<{ applied: boolean; reply: Reply; lateReply?: boolean }> {
      const participant = h.rigs[bank]!.participant;
      if (engine === 'standard') {
        const result = await participant.handle(message);
        return { applied: result.applied, reply: result.reply as Reply, lateReply: result.lateReply };
      }
      const before = participant.counters.applied;
      const { taskToken: _, ...direct } = message;
      const { answer, message: thrown } = await h.invoke(bank, direct);
      const applied = participant.counters.applied > before;
      if (answer === undefined) {
        // A phase-two step refused: thrown as PhaseStepFailed "... failed (<error>): <reason>".
        return {
          applied,
          reply: { kind: 'failure', error: (/\((\w+)\)/.exec(thrown ?? '')?.[1] ?? 'StepFailed') as never, reason: thrown ?? '' },
        };
      }
      const reply = answer as DirectReply;
      return {
        applied,
        reply: reply.ok
          ? { kind: 'success', ...(reply.vote ? { vote: reply.vote } : {}) }
          : { kind: 'failure', error: reply.error, reason: reply.cause },
      };
    }
    const participantOf = (bank: string) => ({
      handle: (message: CoordinatorEnvelope) => deliver(bank, message),
      record: (txId: string, name: string) => h.rigs[bank]!.participant.record(txId, name),
    });

    const address = (bank: string) => ({ queueUrl: h.rigs[bank]!.queueUrl, functionName: h.rigs[bank]!.functionName });

    async function account(bank: 'bank-a' | 'bank-b', balance: number) {
      const accountId = id('acc');
      await h.rigs[bank]!.bank.open(accountId, balance);
      return accountId;
    }
    const envelope = (
      txId: string,
      participant: string,
      phase: CoordinatorEnvelope['phase'],
      epoch: number,
      leg: TransferLeg,
      mode: '2pc' | 'saga' = '2pc',
    ): CoordinatorEnvelope => ({
      transaction: 'transfer-2pc',
      mode,
      txId,
      epoch,
      participant,
      phase,
      payload: leg,
      // A token the coordinator never issued: the reply is late by construction.
      taskToken: `not-a-live-token-${txId}-${phase}-${epoch}`,
    });

    describe('T4: late, duplicated and replayed messages', () => {
      // Participants up (on Express a down participant holds its invocations).
      let up: AbortController;
      beforeAll(() => {
        up = h.startWorkers();
      });
      afterAll(() => up.abort());

      it('a duplicated prepare holds the money once and votes YES twice', async () => {
        const acc = await account('bank-a', 500);
        const txId = id();
        const debit: TransferLeg = { kind: 'debit', accountId: acc, amount: 200 };
        const p = participantOf('bank-a');
        const first = await p.handle(envelope(txId, 'debit', 'prepare', 1, debit));
        const again = await p.handle(envelope(txId, 'debit', 'prepare', 1, debit));
        // Standard: the token was never issued, so the reply is late; Express has no token at all.
        expect(first).toMatchObject({
          applied: true,
          reply: { kind: 'success', vote: 'YES' },
          ...(engine === 'standard' ? { lateReply: true } : {}),
        });
        expect(again).toMatchObject({ applied: false, reply: { kind: 'success', vote: 'YES' } });
        expect(await h.rigs['bank-a']!.bank.account(acc)).toMatchObject({ balance: 500, held: 200 });
        await p.handle(envelope(txId, 'debit', 'abort', 1, debit));
        expect(await h.rigs['bank-a']!.bank.account(acc)).toMatchObject({ balance: 500, held: 0 });
      });

      it("phase one writes first: a debit's YES vote reads nothing, a NO vote reads the account once to say why and holds nothing; a credit reads and writes its record alone", async () => {
        const rich = await account('bank-a', 500);
        const poor = await account('bank-a', 50);
        const p = participantOf('bank-a');
        const reads = () => h.meter.snapshot().requests['DynamoDB.GetItem'] ?? 0;
        const before = reads();
        const yes = await p.handle(envelope(id(), 'debit', 'prepare', 1, { kind: 'debit', accountId: rich, amount: 200 }));
        expect(yes.reply).toMatchObject({ kind: 'success', vote: 'YES' });
        expect(reads() - before).toBe(0);
        const noTx = id();
        const no = await p.handle(envelope(noTx, 'debit', 'prepare', 1, { kind: 'debit', accountId: poor, amount: 200 }));
        expect(no.reply).toMatchObject({ kind: 'failure', error: 'VoteNo', reason: expect.stringContaining('insufficient funds') });
        // The cancelled write is retried after reading the participant record and the account.
        expect(reads() - before).toBe(2);
        expect(await h.rigs['bank-a']!.bank.account(poor)).toMatchObject({ balance: 50, held: 0 });
        expect(await p.record(noTx, 'debit')).toMatchObject({ state: 'ABORTED', reason: 'insufficient funds' });
        // A credit holds nothing: it reads the account and writes its record alone, no transaction.
        const requests = () => ({ ...h.meter.snapshot().requests });
        const r0 = requests();
        const creditYes = await p.handle(envelope(id(), 'credit', 'prepare', 1, { kind: 'credit', accountId: rich, amount: 10 }));
        expect(creditYes.reply).toMatchObject({ kind: 'success', vote: 'YES' });
        const r1 = requests();
        const delta = (op: string) => (r1[`DynamoDB.${op}`] ?? 0) - (r0[`DynamoDB.${op}`] ?? 0);
        expect({ get: delta('GetItem'), update: delta('UpdateItem'), transact: delta('TransactWriteItems') }).toEqual({
          get: 1,
          update: 1,
          transact: 0,
        });
        const credit = await p.handle(envelope(id(), 'credit', 'prepare', 1, { kind: 'credit', accountId: 'no-such-account', amount: 10 }));
        expect(credit.reply).toMatchObject({
          kind: 'failure',
          error: 'VoteNo',
          reason: expect.stringContaining('no account no-such-account in bank-a'),
        });
      });

      it('a prepare that arrives after the abort (reordered) votes NO and holds nothing', async () => {
        const acc = await account('bank-a', 500);
        const txId = id();
        const debit: TransferLeg = { kind: 'debit', accountId: acc, amount: 200 };
        const p = participantOf('bank-a');
        expect(await p.handle(envelope(txId, 'debit', 'abort', 2, debit))).toMatchObject({ applied: true });
        expect(await p.handle(envelope(txId, 'debit', 'prepare', 1, debit))).toMatchObject({
          applied: false,
          reply: { kind: 'failure', error: 'VoteNo' },
        });
        expect(await h.rigs['bank-a']!.bank.account(acc)).toMatchObject({ balance: 500, held: 0 });
      });

      it('a replayed commit credits once, and a commit of another transaction leaves this one alone', async () => {
        const acc = await account('bank-b', 0);
        const [tx1, tx2] = [id(), id()];
        const credit: TransferLeg = { kind: 'credit', accountId: acc, amount: 70 };
        const p = participantOf('bank-b');
        await p.handle(envelope(tx1, 'credit', 'prepare', 1, credit));
        await p.handle(envelope(tx2, 'credit', 'prepare', 1, credit));
        await p.handle(envelope(tx1, 'credit', 'commit', 1, credit));
        await p.handle(envelope(tx1, 'credit', 'commit', 2, credit)); // the sweeper's re-drive
        await p.handle(envelope(tx1, 'credit', 'commit', 1, credit)); // an SQS redelivery
        expect(await h.rigs['bank-b']!.bank.account(acc)).toMatchObject({ balance: 70 });
        expect((await p.record(tx2, 'credit'))?.state).toBe('PREPARED');
        // tx2 aborts: a stale commit of tx1 (same account, same amount) cannot turn it around.
        await p.handle(envelope(tx2, 'credit', 'abort', 1, credit));
        expect(await p.handle(envelope(tx2, 'credit', 'commit', 1, credit))).toMatchObject({
          applied: false,
          reply: { error: 'Conflict' },
        });
        expect(await h.rigs['bank-b']!.bank.account(acc)).toMatchObject({ balance: 70 });
      });

      it('saga: a compensation that overtakes its action leaves a tombstone; the late action is refused', async () => {
        const acc = await account('bank-a', 500);
        const txId = id();
        const debit: TransferLeg = { kind: 'debit', accountId: acc, amount: 100 };
        const p = participantOf('bank-a');
        expect(await p.handle(envelope(txId, 'debit', 'compensate', 2, debit, 'saga'))).toMatchObject({ applied: true });
        expect(await p.handle(envelope(txId, 'debit', 'action', 1, debit, 'saga'))).toMatchObject({
          applied: false,
          reply: { kind: 'failure', error: 'ActionFailed' },
        });
        expect(await h.rigs['bank-a']!.bank.account(acc)).toMatchObject({ balance: 500 });
      });
    });

    describe('T5: compensations', () => {
      async function sagaWithFailingLastStep(failures: number) {
        const from = await account('bank-a', 1_000);
        const credited = await account('bank-b', 0);
        // credit-1 succeeds, credit-2 fails (no such account): credit-1 and the debit are compensated.
        const attempts = { count: 0 };
        const base = h.rigs['bank-b']!.bank.handlers();
        const flaky: ParticipantHandlers<TransferLeg> = {
          ...base,
          compensate: async (ctx) => {
            if (ctx.participant === 'credit-1' && attempts.count++ < failures)
              throw new Error(`injected compensation failure ${attempts.count}`);
            return (base.compensate as NonNullable<typeof base.compensate>)(ctx);
          },
        };
        const saved = h.rigs['bank-b']!.participant;
        h.rigs['bank-b']!.participant = h.newParticipant(h.rigs['bank-b']!.bank, flaky);
        h.startWorkers();
        const txId = id();
        try {
          await h.transfer(saga3, txId, { bank: 'bank-a', id: from }, [
            { bank: 'bank-b', id: credited, amount: 100 },
            { bank: 'bank-b', id: 'no-such-account', amount: 50 },
          ]);
          return { txId, view: await h.waitForEnd(txId, 90_000), from, credited, attempts };
        } finally {
          h.stopWorkers();
          h.rigs['bank-b']!.participant = saved;
        }
      }

      it('a compensation that fails twice then succeeds ends ABORTED with every balance restored', async () => {
        const { view, from, credited, attempts } = await sagaWithFailingLastStep(2);
        expect(view).toMatchObject({ status: 'ABORTED', decision: 'ABORT' });
        expect(attempts.count).toBe(3);
        expect(await h.rigs['bank-a']!.bank.account(from)).toMatchObject({ balance: 1_000, held: 0 });
        expect(await h.rigs['bank-b']!.bank.account(credited)).toMatchObject({ balance: 0, held: 0 });
      });

      it('a compensation that always fails is parked: STUCK with a dead-letter entry, never success', async () => {
        const { txId, view, from, credited } = await sagaWithFailingLastStep(1_000);
        expect(view).toMatchObject({ status: 'STUCK', decision: 'ABORT' });
        const parked = await h.dynamodb.send(
          new (await import('@aws-sdk/client-dynamodb')).GetItemCommand({
            TableName: h.coordinatorTable,
            Key: { pk: { S: 'PARKED' }, sk: { S: `${txId}#credit-1` } },
            ConsistentRead: true,
          }),
        );
        expect(parked.Item?.participant?.S).toBe('credit-1');
        expect(parked.Item?.error?.S).toContain('StepFailed');
        // The other compensations still ran: the debit is refunded; the credit stays where it is.
        expect(await h.rigs['bank-a']!.bank.account(from)).toMatchObject({ balance: 1_000 });
        expect(await h.rigs['bank-b']!.bank.account(credited)).toMatchObject({ balance: 100 });
      });

      it("an operator's retry of a STUCK saga (fenced, next epoch) compensates what was parked: ABORTED, every balance restored, the timeline keeps the parking", async () => {
        const { txId, view, from, credited } = await sagaWithFailingLastStep(1_000);
        expect(view).toMatchObject({ status: 'STUCK' });
        const operator = h.sweeper('operator-1', { role: 'operator-retry' });
        // The compensation works again (the operator fixed its cause); the retry re-runs it.
        h.startWorkers();
        try {
          expect(await operator.retryStuck(txId)).toEqual({ txId, status: 'PENDING', epoch: view.epoch + 1 });
          await expect(operator.retryStuck(txId)).rejects.toMatchObject({ name: 'ConflictError' });
          const ended = await h.waitForEnd(txId, 90_000);
          expect(ended).toMatchObject({ status: 'ABORTED', decision: 'ABORT', epoch: view.epoch + 1 });
        } finally {
          h.stopWorkers();
        }
        expect(await h.rigs['bank-a']!.bank.account(from)).toMatchObject({ balance: 1_000, held: 0 });
        expect(await h.rigs['bank-b']!.bank.account(credited)).toMatchObject({ balance: 0, held: 0 });
        const { sources } = await h.coordinator.timelineSources(txId);
        expect(sources.parked).toEqual([]);
        expect(sources.log.map((e) => [e.kind, e.participant ?? '', e.epoch ?? ''])).toEqual([
          ['parked', 'credit-1', ''],
          ['retry', '', view.epoch + 1],
        ]);
        const credit = await h.rigs['bank-b']!.participant.record(txId, 'credit-1');
        expect(credit?.history?.map((p) => [p.phase, p.state, p.epoch])).toEqual([
          ['action', 'DONE', 1],
          ['compensate', 'COMPENSATED', view.epoch + 1],
        ]);
      });

      it('refuses to retry a transaction that is not STUCK (Conflict) and one that does not exist (NotFound)', async () => {
        const operator = h.sweeper('operator-2', { role: 'operator-retry' });
        await expect(operator.retryStuck(id())).rejects.toMatchObject({ name: 'NotFoundError' });
        const from = await account('bank-a', 10);
        const to = await account('bank-b', 0);
        const txId = id();
        h.startWorkers();
        try {
          await h.transfer(saga3, txId, { bank: 'bank-a', id: from }, [
            { bank: 'bank-b', id: to, amount: 1 },
            { bank: 'bank-b', id: to, amount: 1 },
          ]);
          expect(await h.waitForEnd(txId, 90_000)).toMatchObject({ status: 'COMMITTED' });
        } finally {
          h.stopWorkers();
        }
        await expect(operator.retryStuck(txId)).rejects.toMatchObject({ name: 'ConflictError' });
      });
    });

    describe('E1: the sweeper lease', () => {
      async function overdueTransaction() {
        // A transaction whose coordinator never started (crash window C1): a record only.
        const txId = id();
        const [a, b] = [await account('bank-a', 100), await account('bank-b', 0)];
        const crashing = new Coordinator({
          dynamodb: h.dynamodb,
          sfn: { send: async () => Promise.reject(new Error('C1')) } as never,
          tableName: h.coordinatorTable,
          stateMachines: h.stateMachines,
        });
        await crashing
          .start(twoPhase, txId, [
            { name: 'debit', ...address('bank-a'), payload: { kind: 'debit', accountId: a, amount: 10 } },
            { name: 'credit', ...address('bank-b'), payload: { kind: 'credit', accountId: b, amount: 10 } },
          ])
          .catch(() => undefined);
        return txId;
      }

      it('two sweepers at once: exactly one leads', async () => {
        const clock = FakeClock.followingSystemTime();
        clock.advance(3_600_000);
        const role = id('role');
        const results = await Promise.all([h.sweeper('one', { clock, role }).lead(), h.sweeper('two', { clock, role }).lead()]);
        expect(results.filter(Boolean)).toHaveLength(1);
      });

      it('a leader fenced out in the middle of a round stops the round instead of trying every transaction', async () => {
        await overdueTransaction();
        await overdueTransaction();
        const role = id('role');
        const oldClock = FakeClock.followingSystemTime();
        oldClock.advance(3_600_000);
        const oldClient = dynamoClient();
        const old = h.sweeper('old', { clock: oldClock, role, dynamodb: oldClient });
        const newClock = FakeClock.followingSystemTime();
        newClock.advance(3_600_000 + 11_000);
        // Between the old leader's lease check and its first recovery write, its lease runs out and
        // a new leader takes over.
        const takeover = new FailFirstAttempt(oldClient, 'TransactWriteItems', async () => {
          expect(await h.sweeper('new', { clock: newClock, role }).lead()).toBeDefined();
        });
        const round = await old.tick();
        takeover.remove();
        expect(takeover.injected).toBe(1);
        expect(round).toMatchObject({ leader: true, recovered: [], fencedOut: 1 });
        expect(old.currentLease).toBeUndefined();
      });

      it('a paused ex-leader’s recovery is rejected by its stale fence; the new leader’s goes through', async () => {
        const role = id('role');
        const oldClock = FakeClock.followingSystemTime();
        oldClock.advance(3_600_000);
        const old = h.sweeper('old', { clock: oldClock, role });
        const oldLease = await old.lead();
        expect(oldLease).toBeDefined();
        const txId = await overdueTransaction();
        // The old leader pauses (a GC pause, a frozen Lambda) past its lease; a new one takes over.
        const newClock = FakeClock.followingSystemTime();
        newClock.advance(3_600_000 + 11_000);
        const fresh = h.sweeper('new', { clock: newClock, role });
        const newLease = await fresh.lead();
        expect(newLease?.fence).toBe((oldLease?.fence ?? 0) + 1);
        // The old leader wakes up, still believing in its lease, and tries to recover the transaction.
        expect(await old.recover(txId, oldLease!)).toBe('fenced-out');
        expect((await h.coordinator.view(txId)).epoch).toBe(1);
        expect(await fresh.recover(txId, newLease!)).toEqual({ decision: 'ABORT', presumed: true });
        const recovered = await h.coordinator.view(txId);
        expect(recovered.epoch).toBe(2);
        // The recovery run gets the whole budget the first run had, so that its phase two can retry
        // to the end (and park, T5) before it is presumed stuck in turn.
        const budgetMs = transactionBudgetSeconds(h.stateMachines[twoPhase]!.definition) * 1000;
        expect(Date.parse(recovered.deadline)).toBeGreaterThanOrEqual(newClock.now() + budgetMs);
      });
    });
  });
}
