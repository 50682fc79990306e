import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { type SFNClient, StartExecutionCommand, StopExecutionCommand } from '@aws-sdk/client-sfn';
import { FakeClock, LostResponses } from 'concord-aws/testing';
import { Coordinator, executionArn, type RetryPolicy, type TxEngine, type TxMode } from 'concord-aws/tx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transferDefinition } from '../../functions/bank/transfer.js';
import { uniqueName } from '../support/aws.js';
import { txHarness } from '../support/tx-harness.js';
import { sleep, waitFor } from '../support/wait.js';

type Harness = Awaited<ReturnType<typeof txHarness>>;

const quickRetry: RetryPolicy = { maxAttempts: 2, intervalSeconds: 1, backoffRate: 1 };
const id = (p = 'tx') => uniqueName(p).replace(/[^A-Za-z0-9_-]/g, '');

/**
 * T6: a crash at every numbered crash point of the coordinator (C1–C6, core/tx/asl.ts) and of a
 * participant (P1–P4, adapters/tx/participant.ts), then recovery by the sweeper: T1–T5 still hold.
 * Once per engine. On Express the coordinator's "crash" is MiniStack's StopExecution (AWS cannot
 * stop an Express run: there it is a host lost, and the run dies at 5 minutes at the latest), and
 * a participant that is down holds its invocations as a queue holds messages (test/support).
 */
for (const engine of ['standard', 'express'] as const satisfies readonly TxEngine[]) {
  describe(`crash points and recovery, ${engine} engine (MiniStack, real state machine)`, () => {
    let h: Harness;
    const sweeperClock = FakeClock.followingSystemTime();
    const def = (mode: TxMode) => transferDefinition(mode, { engine, timeoutSeconds: 8, completionRetry: quickRetry });
    /** The registered type of the plain definitions (not the paused copies). */
    const plain = (mode: TxMode) => def(mode).name;
    beforeAll(async () => {
      h = await txHarness([
        def('2pc'),
        def('saga'),
        { definition: def('2pc'), key: 'c3', pauses: { 'Decide COMMIT': 4 } },
        { definition: def('2pc'), key: 'c4', pauses: { Commit: 4 } },
        { definition: def('2pc'), key: 'c6', pauses: { 'Mark COMMITTED': 4 } },
        { definition: def('saga'), key: 'saga-mid', pauses: { 'action credit': 4 } },
        // A crashed participant's message comes back after the queue's visibility timeout (5 s), and
        // an abandoned long poll may hold it once more: the phase timeout must allow a few of those.
        { definition: transferDefinition('2pc', { engine, timeoutSeconds: 30, completionRetry: quickRetry }), key: 'patient' },
      ]);
    });
    afterAll(() => h?.close());

    async function accounts(balanceA: number, balanceB = 0) {
      const [a, b] = [id('acc'), id('acc')];
      await h.rigs['bank-a']!.bank.open(a, balanceA);
      await h.rigs['bank-b']!.bank.open(b, balanceB);
      return { a, b, from: { bank: 'bank-a', id: a }, to: [{ bank: 'bank-b', id: b, amount: 100 }] };
    }
    const balances = async (a: string, b: string) => [await h.rigs['bank-a']!.bank.account(a), await h.rigs['bank-b']!.bank.account(b)];
    /** Nothing moved and no hold is left: the outcome of every abort. */
    const expectUntouched = async (a: string, b: string) =>
      expect(await balances(a, b)).toEqual([
        { id: a, balance: 500, held: 0 },
        { id: b, balance: 0, held: 0 },
      ]);
    /** The 100 moved exactly once and no hold is left: the outcome of every commit. */
    const expectTransferred = async (a: string, b: string) =>
      expect(await balances(a, b)).toEqual([
        { id: a, balance: 400, held: 0 },
        { id: b, balance: 100, held: 0 },
      ]);
    /** Phase messages a bank has not finished (queued or in flight; on Express, invocations it holds). */
    const queued = (bank: string): Promise<number> => h.pending(bank);

    const stop = (type: string, name: string) =>
      (h.sfn as SFNClient).send(
        new StopExecutionCommand({
          executionArn: executionArn(h.stateMachines[type]!.stateMachineArn, name),
          error: 'Crash',
          cause: 'test: the coordinator crashed here',
        }),
      );
    /** C4: the coordinator stops right after writing COMMIT, before phase two starts. */
    async function crashAfterCommitDecision(
      txId: string,
      from: Parameters<Harness['transfer']>[2],
      to: Parameters<Harness['transfer']>[3],
    ) {
      await h.transfer('c4', txId, from, to);
      await waitFor('decision', async () => (await h.coordinator.view(txId)).decision === 'COMMIT');
      await stop('c4', txId);
    }
    /** Time passes for the sweeper only: it sees every open transaction as overdue. */
    async function sweep() {
      sweeperClock.advance(10 * 60_000);
      const result = await h.sweeper(`sweeper-${id('s')}`, { clock: sweeperClock }).tick();
      expect(result.leader).toBe(true);
      return result;
    }
    const prepared = (txId: string) => async () =>
      (await h.rigs['bank-a']!.participant.record(txId, 'debit'))?.state === 'PREPARED' &&
      (await h.rigs['bank-b']!.participant.record(txId, 'credit'))?.state === 'PREPARED';

    it('C1: record written, execution never started -> presumed abort, nothing moves', async () => {
      const { a, b, from, to } = await accounts(500);
      const crashing = new Coordinator({
        dynamodb: h.dynamodb,
        sfn: { send: async () => Promise.reject(new Error('crash before StartExecution (C1)')) } as unknown as SFNClient,
        tableName: h.coordinatorTable,
        stateMachines: h.stateMachines,
      });
      const txId = id();
      const address = (bank: string) => ({ queueUrl: h.rigs[bank]!.queueUrl, functionName: h.rigs[bank]!.functionName });
      const participants = [
        { name: 'debit', ...address('bank-a'), payload: { kind: 'debit', accountId: from.id, amount: 100 } },
        { name: 'credit', ...address('bank-b'), payload: { kind: 'credit', accountId: to[0]!.id, amount: 100 } },
      ];
      await expect(crashing.start(plain('2pc'), txId, participants)).rejects.toThrow(/C1/);
      h.startWorkers();
      const { recovered } = await sweep();
      expect(recovered).toContainEqual({ txId, decision: 'ABORT', presumed: true });
      expect(await h.waitForEnd(txId)).toMatchObject({ status: 'ABORTED', decision: 'ABORT', epoch: 2 });
      await expectUntouched(a, b);
      h.stopWorkers();
    });

    it('C2: prepares sent, no votes, coordinator gone -> presumed abort; late prepares vote NO, no holds remain', async () => {
      const { a, b, from, to } = await accounts(500);
      const txId = id();
      await h.transfer(plain('2pc'), txId, from, to); // no workers: the prepares wait (in SQS, or held)
      await waitFor("the prepares in both banks' queues", async () => (await queued('bank-a')) > 0 && (await queued('bank-b')) > 0);
      await stop(plain('2pc'), txId);
      const { recovered } = await sweep();
      expect(recovered).toContainEqual({ txId, decision: 'ABORT', presumed: true });
      h.startWorkers(); // old prepares and new aborts race in the queues
      expect(await h.waitForEnd(txId)).toMatchObject({ status: 'ABORTED' });
      await waitFor(
        'both participants aborted',
        async () => (await h.rigs['bank-a']!.participant.record(txId, 'debit'))?.state === 'ABORTED',
      );
      await expectUntouched(a, b);
      h.stopWorkers();
    });

    it('C3: votes in, decision not written -> presumed abort releases the holds (T1, T3)', async () => {
      const { a, b, from, to } = await accounts(500);
      h.startWorkers();
      const txId = id();
      await h.transfer('c3', txId, from, to);
      await waitFor('both prepared', prepared(txId));
      expect((await h.rigs['bank-a']!.bank.account(a)).held).toBe(100);
      await stop('c3', txId);
      // T3: in doubt, the participants do not decide alone: without a decision nothing happens.
      expect(await h.rigs['bank-a']!.participant.resolveInDoubt(0)).toEqual([]);
      expect((await h.rigs['bank-a']!.participant.record(txId, 'debit'))?.state).toBe('PREPARED');
      await sweep();
      expect(await h.waitForEnd(txId)).toMatchObject({ status: 'ABORTED', decision: 'ABORT' });
      await waitFor('holds released', async () => (await h.rigs['bank-a']!.bank.account(a)).held === 0);
      await expectUntouched(a, b);
      h.stopWorkers();
    });

    it('C4: decision COMMIT written, phase two never started -> recovery commits everyone', async () => {
      const { a, b, from, to } = await accounts(500);
      h.startWorkers();
      const txId = id();
      await crashAfterCommitDecision(txId, from, to);
      const { recovered } = await sweep();
      expect(recovered).toContainEqual({ txId, decision: 'COMMIT', presumed: false });
      expect(await h.waitForEnd(txId)).toMatchObject({ status: 'COMMITTED', epoch: 2 });
      await waitFor('credited', async () => (await h.rigs['bank-b']!.bank.account(b)).balance === 100);
      await expectTransferred(a, b);
      h.stopWorkers();
    });

    it('T3: an in-doubt participant resolves itself from the decision record', async () => {
      const { a, b, from, to } = await accounts(500);
      h.startWorkers();
      const txId = id();
      await crashAfterCommitDecision(txId, from, to);
      h.stopWorkers();
      const resolvedA = await h.rigs['bank-a']!.participant.resolveInDoubt(0);
      const resolvedB = await h.rigs['bank-b']!.participant.resolveInDoubt(0);
      expect(resolvedA).toContainEqual({ txId, participant: 'debit', decision: 'COMMIT' });
      expect(resolvedB).toContainEqual({ txId, participant: 'credit', decision: 'COMMIT' });
      await expectTransferred(a, b);
    });

    it('C5: phase two delivered to one participant only -> recovery completes the other, once', async () => {
      const { a, b, from, to } = await accounts(500);
      h.startWorkers(['bank-a']);
      const bankB = h.startWorkers(['bank-b']);
      const txId = id();
      await h.transfer('c4', txId, from, to);
      await waitFor('decision', async () => (await h.coordinator.view(txId)).decision === 'COMMIT');
      bankB.abort(); // bank-b is down during phase two
      await waitFor('bank-a committed', async () => (await h.rigs['bank-a']!.participant.record(txId, 'debit'))?.state === 'COMMITTED');
      await stop('c4', txId);
      await sweep();
      h.startWorkers(['bank-b']); // gets the commit of epoch 1 and of epoch 2
      expect(await h.waitForEnd(txId)).toMatchObject({ status: 'COMMITTED' });
      // Both commits (epochs 1 and 2) handled and deleted: only then is "applied once" proven.
      await waitFor("bank-b's queue drained", async () => (await queued('bank-b')) === 0);
      await expectTransferred(a, b);
      h.stopWorkers();
    });

    it('C6: phase two done, status not marked -> recovery re-sends (no-ops) and marks COMMITTED', async () => {
      const { a, b, from, to } = await accounts(500);
      h.startWorkers();
      const txId = id();
      await h.transfer('c6', txId, from, to);
      await waitFor('both committed', async () => (await h.rigs['bank-b']!.participant.record(txId, 'credit'))?.state === 'COMMITTED');
      await stop('c6', txId);
      expect((await h.coordinator.view(txId)).status).toBe('PENDING');
      await sweep();
      expect(await h.waitForEnd(txId)).toMatchObject({ status: 'COMMITTED' });
      await expectTransferred(a, b);
      h.stopWorkers();
    });

    it('saga: coordinator gone after the debit -> presumed abort compensates; a late credit action is refused', async () => {
      const { a, b, from, to } = await accounts(500);
      h.startWorkers(['bank-a']);
      const txId = id();
      await h.transfer('saga-mid', txId, from, to);
      await waitFor('debited', async () => (await h.rigs['bank-a']!.bank.account(a)).balance === 400);
      await stop('saga-mid', txId);
      await sweep();
      h.startWorkers(['bank-b']);
      expect(await h.waitForEnd(txId)).toMatchObject({ status: 'ABORTED', decision: 'ABORT' });
      expect(await h.rigs['bank-b']!.participant.record(txId, 'credit')).toMatchObject({ state: 'COMPENSATED' });
      await expectUntouched(a, b);
      h.stopWorkers();
    });

    if (engine === 'express') {
      it('the same transaction executed twice at once (Express runs at least once): one decision, money moved once', async () => {
        const { a, b, from, to } = await accounts(500);
        const txId = id();
        // The participants are down while both runs send their prepares, so the two runs' phases
        // interleave at the participants when they come up.
        await h.transfer(plain('2pc'), txId, from, to);
        const machine = h.stateMachines[plain('2pc')]!;
        const { Item } = await h.dynamodb.send(
          new GetItemCommand({ TableName: h.coordinatorTable, Key: { pk: { S: `TX#${txId}` }, sk: { S: 'tx' } }, ConsistentRead: true }),
        );
        // A second execution of the same input (AWS may run an Express execution twice; MiniStack
        // refuses a repeated name, so the duplicate gets its own).
        await h.sfn.send(
          new StartExecutionCommand({ stateMachineArn: machine.stateMachineArn, name: `${txId}-dup`, input: Item!.input!.S! }),
        );
        await waitFor('both runs holding prepares', async () => (await queued('bank-a')) >= 2 && (await queued('bank-b')) >= 2);
        h.startWorkers();
        expect(await h.waitForEnd(txId)).toMatchObject({ status: 'COMMITTED', decision: 'COMMIT', epoch: 1 });
        await waitFor('both runs finished', async () =>
          ['SUCCEEDED', 'FAILED'].includes((await h.executionStatus(plain('2pc'), `${txId}-dup`)) ?? '') &&
          ['SUCCEEDED', 'FAILED'].includes((await h.executionStatus(plain('2pc'), txId)) ?? '')
            ? true
            : undefined,
        );
        expect([await h.executionStatus(plain('2pc'), txId), await h.executionStatus(plain('2pc'), `${txId}-dup`)]).toEqual([
          'SUCCEEDED',
          'SUCCEEDED',
        ]);
        await waitFor('nothing held', async () => (await queued('bank-a')) === 0 && (await queued('bank-b')) === 0);
        await expectTransferred(a, b);
        // Each participant applied prepare and commit once; the other run's four phases were duplicates.
        expect(await h.rigs['bank-a']!.participant.record(txId, 'debit')).toMatchObject({ state: 'COMMITTED', epoch: 1 });
        h.stopWorkers();
      });
    }

    describe('participant crash points', () => {
      for (const point of ['P1', 'P2', 'P3'] as const) {
        it(`${point}: a participant crashing at ${point} once per phase still lets the transfer commit exactly once`, async () => {
          const { a, b, from, to } = await accounts(500);
          const crashed = new Set<string>();
          const crashPoint = (at: 'P1' | 'P2' | 'P3', message: { txId: string; participant: string; phase: string }) => {
            const key = `${message.txId}/${message.participant}/${message.phase}`;
            if (at === point && !crashed.has(key)) {
              crashed.add(key);
              throw new Error(`crash at ${at}`);
            }
          };
          const saved = { a: h.rigs['bank-a']!.participant, b: h.rigs['bank-b']!.participant };
          h.rigs['bank-a']!.participant = h.newParticipant(h.rigs['bank-a']!.bank, h.rigs['bank-a']!.bank.handlers(), crashPoint);
          h.rigs['bank-b']!.participant = h.newParticipant(h.rigs['bank-b']!.bank, h.rigs['bank-b']!.bank.handlers(), crashPoint);
          try {
            h.startWorkers();
            const txId = id();
            await h.transfer('patient', txId, from, to);
            const end = await h.waitForEnd(txId, 90_000);
            expect(end, end.decisionReason).toMatchObject({ status: 'COMMITTED' });
            expect(crashed.size).toBe(4); // prepare and commit, at both participants
            await expectTransferred(a, b);
          } finally {
            h.stopWorkers();
            h.rigs['bank-a']!.participant = saved.a;
            h.rigs['bank-b']!.participant = saved.b;
          }
        });
      }

      // TransactWriteItems: every phase with writes of its own (the debit's prepare and commit, the
      // credit's commit); UpdateItem: the credit's prepare, its record alone (a bank table's update).
      it.each([
        ['TransactWriteItems', 3],
        ['UpdateItem', 1],
      ] as const)('P4: a participant write whose response is lost is not applied twice (%s)', async (operation, times) => {
        const { a, b, from, to } = await accounts(500);
        const fault = new LostResponses(h.dynamodb, {
          operation,
          times,
          when: (input) => operation === 'TransactWriteItems' || String(input.TableName).startsWith('bank-'),
        });
        try {
          h.startWorkers();
          const txId = id();
          await h.transfer(plain('2pc'), txId, from, to);
          expect(await h.waitForEnd(txId, 60_000)).toMatchObject({ status: 'COMMITTED' });
          expect(fault.injected).toBe(times);
          await expectTransferred(a, b);
        } finally {
          fault.remove();
          h.stopWorkers();
        }
      });

      it('a worker killed mid-flight and restarted: the transfer still completes once', async () => {
        const { a, b, from, to } = await accounts(500);
        const workers = h.startWorkers();
        const txId = id();
        // 'patient': the killed worker's message comes back only after the queue's visibility timeout;
        // with the 8 s phases of 'transfer-2pc' that can time the prepare out (an abort, not a crash).
        await h.transfer('patient', txId, from, to);
        // Killed once the transfer is under way in a participant, not at an arbitrary moment.
        await waitFor('the debit prepared', async () => (await h.rigs['bank-a']!.participant.record(txId, 'debit')) !== undefined, {
          everyMs: 10,
        });
        workers.abort();
        await sleep(1_000); // down for a while
        h.startWorkers();
        expect(await h.waitForEnd(txId, 60_000)).toMatchObject({ status: 'COMMITTED' });
        await expectTransferred(a, b);
        h.stopWorkers();
      });
    });
  });
}
