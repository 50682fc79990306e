import { type TxEngine, transactionBudgetSeconds } from 'concord-aws/tx';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { transferDefinition } from '../../functions/bank/transfer.js';
import { uniqueName } from '../support/aws.js';
import { txHarness } from '../support/tx-harness.js';

type Harness = Awaited<ReturnType<typeof txHarness>>;

for (const engine of ['standard', 'express'] as const satisfies readonly TxEngine[]) {
  describe(`transfers through the real state machine, ${engine} engine (MiniStack)`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await txHarness([
        transferDefinition('2pc', { engine, timeoutSeconds: 10 }),
        transferDefinition('saga', { engine, timeoutSeconds: 10 }),
      ]);
      h.startWorkers();
    });
    afterAll(() => h?.close());

    const id = () => uniqueName('tx').replace(/[^A-Za-z0-9_-]/g, '');
    const type = (mode: '2pc' | 'saga') => transferDefinition(mode, { engine }).name;
    const balances = async (a: string, b: string) => [await h.rigs['bank-a']!.bank.account(a), await h.rigs['bank-b']!.bank.account(b)];

    it('a duplicate start of the same transaction id yields one transaction', async () => {
      const [a, b] = [id(), id()];
      await h.rigs['bank-a']!.bank.open(a, 1_000);
      await h.rigs['bank-b']!.bank.open(b, 0);
      const txId = id();
      const starts = await Promise.all(
        Array.from({ length: 3 }, () => h.transfer(type('2pc'), txId, { bank: 'bank-a', id: a }, [{ bank: 'bank-b', id: b, amount: 100 }])),
      );
      expect(starts.filter((s) => !s.duplicate)).toHaveLength(1);
      expect(await h.waitForEnd(txId)).toMatchObject({ status: 'COMMITTED', epoch: 1 });
      expect(await balances(a, b)).toEqual([
        { id: a, balance: 900, held: 0 },
        { id: b, balance: 100, held: 0 },
      ]);
    });

    for (const mode of ['2pc', 'saga'] as const) {
      it(`${mode}: commits a transfer between two banks`, async () => {
        const [a, b] = [id(), id()];
        await h.rigs['bank-a']!.bank.open(a, 1_000);
        await h.rigs['bank-b']!.bank.open(b, 0);
        const txId = id();
        await h.transfer(type(mode), txId, { bank: 'bank-a', id: a }, [{ bank: 'bank-b', id: b, amount: 300 }]);
        const view = await h.waitForEnd(txId);
        expect(view).toMatchObject({ status: 'COMMITTED', decision: 'COMMIT', engine });
        expect(await balances(a, b)).toEqual([
          { id: a, balance: 700, held: 0 },
          { id: b, balance: 300, held: 0 },
        ]);
        // Each participant's record keeps every phase it applied (the timeline), phase one's
        // entry included when phase two was written against a presumed record.
        for (const { name } of view.participants) {
          const records = await Promise.all(Object.values(h.rigs).map((rig) => rig.participant.record(txId, name)));
          const record = records.find((r) => r !== undefined);
          expect(record?.history?.map((e) => [e.phase, e.state])).toEqual(
            mode === '2pc'
              ? [
                  ['prepare', 'PREPARED'],
                  ['commit', 'COMMITTED'],
                ]
              : [['action', 'DONE']],
          );
        }
      });

      it(`${mode}: aborts on insufficient funds and changes nothing`, async () => {
        const [a, b] = [id(), id()];
        await h.rigs['bank-a']!.bank.open(a, 100);
        await h.rigs['bank-b']!.bank.open(b, 0);
        const txId = id();
        await h.transfer(type(mode), txId, { bank: 'bank-a', id: a }, [{ bank: 'bank-b', id: b, amount: 300 }]);
        const view = await h.waitForEnd(txId);
        expect(view).toMatchObject({ status: 'ABORTED', decision: 'ABORT' });
        expect(view.decisionReason).toContain('insufficient funds');
        expect(await balances(a, b)).toEqual([
          { id: a, balance: 100, held: 0 },
          { id: b, balance: 0, held: 0 },
        ]);
      });
    }

    if (engine === 'express') {
      it('runs a transfer synchronously (StartSyncExecution) and answers with its final status', async () => {
        const [a, b] = [id(), id()];
        await h.rigs['bank-a']!.bank.open(a, 1_000);
        await h.rigs['bank-b']!.bank.open(b, 0);
        const [ok, short] = [id(), id()];
        expect(
          await h.transfer(type('2pc'), ok, { bank: 'bank-a', id: a }, [{ bank: 'bank-b', id: b, amount: 250 }], { wait: true }),
        ).toEqual({ txId: ok, status: 'COMMITTED', duplicate: false });
        expect(
          await h.transfer(type('saga'), short, { bank: 'bank-a', id: a }, [{ bank: 'bank-b', id: b, amount: 5_000 }], { wait: true }),
        ).toEqual({ txId: short, status: 'ABORTED', duplicate: false });
        expect(await balances(a, b)).toEqual([
          { id: a, balance: 750, held: 0 },
          { id: b, balance: 250, held: 0 },
        ]);
      });

      it('fits the Express limit: the definition budget is under 300 s', () => {
        expect(transactionBudgetSeconds(h.stateMachines[type('2pc')]!.definition)).toBeLessThanOrEqual(300);
      });
    }

    it('ran every phase above without a participant failing (a receive, a phase, a delete, an invocation)', () => {
      expect(h.errors).toEqual([]);
    });
  });
}
