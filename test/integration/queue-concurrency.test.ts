import { describe, expect, it } from 'vitest';
import { LeaseLost } from '../../functions/core/queue/errors.js';
import type { ReceivedMessage } from '../../functions/core/queue/model.js';
import { emulatorName, onMoto } from '../support/aws.js';
import { queueHarness } from '../support/queue-harness.js';

/**
 * Real concurrency against the emulator: independent QueueService instances (one per simulated
 * process, each with its own cursors and caches) racing on the same table with the real clock.
 */
/** moto serves one request at a time and is several times slower than MiniStack (Q1 took 146 s there on a quiet machine). */
const LOAD_TIMEOUT_MS = onMoto() ? 480_000 : 180_000;

describe(`DurableQueue under concurrency (${emulatorName()})`, () => {
  it(
    'Q1: 8 consumers, 2,000 messages, 5% of deliveries abandoned: every message acked exactly once, none lost',
    async () => {
      const h = await queueHarness({ headRescanMs: 250 });
      const queueName = 'q1-load';
      const total = 2_000;
      const producer = h.service().queue(queueName);
      await producer.configure({ shards: 4, maxReceiveCount: 50, visibilityTimeoutSeconds: 2 });
      const sent = new Set<string>();
      for (let i = 0; i < total; i += 10) {
        const batch = await producer.sendBatch(Array.from({ length: 10 }, (_, j) => ({ body: `m-${i + j}` })));
        for (const r of batch) {
          if (!r.ok) throw r.error;
          sent.add(r.messageId);
        }
      }
      expect(sent.size).toBe(total);

      const acked = new Map<string, number>();
      const ackedAt = new Map<string, number>();
      /** Per message: [when its lease began (the `now` the lease was conditioned on), fence]. */
      const fencesSeen = new Map<string, Array<[number, number]>>();
      const deliveredAfterAck: string[] = [];
      let abandoned = 0;
      let leaseLost = 0;
      let deliveries = 0;
      let seed = 42;
      const random = () => {
        seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
        return seed / 2 ** 31;
      };
      const consumer = async () => {
        const queue = h.service().queue(queueName);
        let idle = 0;
        while (acked.size < total && idle < 40) {
          const receiveStartedAt = Date.now();
          const batch: ReceivedMessage[] = await queue.receive({ max: 10, waitSeconds: 1 });
          idle = batch.length === 0 ? idle + 1 : 0;
          await Promise.all(
            batch.map(async (m) => {
              deliveries++;
              // Q1: a receive that began after an ack had completed must never return that message.
              const ackTime = ackedAt.get(m.messageId);
              if (ackTime !== undefined && receiveStartedAt > ackTime) deliveredAfterAck.push(m.messageId);
              fencesSeen.set(m.messageId, [...(fencesSeen.get(m.messageId) ?? []), [m.leaseUntil - 2_000, m.fence]]);
              if (random() < 0.05) {
                abandoned++; // crash: never ack, the lease must expire and the message come back
                return;
              }
              try {
                await queue.ack(m.receipt);
                acked.set(m.messageId, (acked.get(m.messageId) ?? 0) + 1);
                ackedAt.set(m.messageId, Date.now());
              } catch (error) {
                if (!(error instanceof LeaseLost)) throw error;
                leaseLost++; // our lease expired before the ack: someone else will (or did) ack it
              }
            }),
          );
        }
      };
      await Promise.all(Array.from({ length: 8 }, consumer));

      expect(abandoned).toBeGreaterThan(0.03 * total);
      expect([...acked.values()].every((n) => n === 1)).toBe(true);
      expect(new Set(acked.keys())).toEqual(sent);
      expect(deliveredAfterAck).toEqual([]);
      for (const [, leases] of fencesSeen) {
        // A lease can only begin after the previous one ended, so ordered by when they began, the
        // deliveries of a message carried ever higher fences (Q2).
        const fences = [...leases].sort((a, b) => a[0] - b[0]).map(([, fence]) => fence);
        expect(fences.every((f, i) => i === 0 || f > (fences[i - 1] as number))).toBe(true);
      }
      const stats = await producer.stats({ consistency: 'strong' });
      expect(stats).toMatchObject({ visible: 0, inFlight: 0, delayed: 0, deadLettered: 0 });
      console.log(
        `[${emulatorName()}] Q1 load: ${total} messages, ${deliveries} deliveries, ${abandoned} abandoned, ${leaseLost} acks rejected with LeaseLost`,
      );
    },
    LOAD_TIMEOUT_MS,
  );

  it(
    'Q4: FIFO groups with 6 concurrent consumers: per group, one in flight and send order',
    async () => {
      const h = await queueHarness({ headRescanMs: 100 });
      const queueName = 'q4-fifo';
      const producer = h.service().queue(queueName);
      await producer.configure({ fifo: true, shards: 2, maxReceiveCount: 50, visibilityTimeoutSeconds: 2 });
      const groups = ['A', 'B', 'C', 'D', 'E'];
      const perGroup = 30;
      // Concurrent producers per group would have no defined order: one producer per group, groups
      // in parallel, running while the consumers lease and ack (appends race acks on group items).
      const producing = Promise.all(
        groups.map(async (g) => {
          const queue = h.service().queue(queueName);
          for (let i = 0; i < perGroup; i++) await queue.send({ body: `${g}:${i}`, groupId: g });
        }),
      );
      const completed = new Map<string, number[]>(groups.map((g) => [g, []]));
      const intervals = new Map<string, Array<[number, number]>>(groups.map((g) => [g, []]));
      let abandoned = 0;
      let counter = 0;
      const consumer = async () => {
        const queue = h.service().queue(queueName);
        let idle = 0;
        while ([...completed.values()].reduce((n, l) => n + l.length, 0) < groups.length * perGroup && idle < 30) {
          const batch = await queue.receive({ max: 10, waitSeconds: 1 });
          // The lease write applied before receive returned, and after the previous lease of the group ended.
          const receivedAt = Date.now();
          idle = batch.length === 0 ? idle + 1 : 0;
          await Promise.all(
            batch.map(async (m) => {
              const [group, index] = m.body.split(':') as [string, string];
              if (++counter % 17 === 0) {
                abandoned++; // never acked: the lease ends when it expires
                intervals.get(group)?.push([receivedAt, m.leaseUntil]);
                return;
              }
              await new Promise((r) => setTimeout(r, 5));
              const ackStartedAt = Date.now(); // the ack applies no earlier than this
              try {
                await queue.ack(m.receipt);
                completed.get(group)?.push(Number(index));
                intervals.get(group)?.push([receivedAt, ackStartedAt]);
              } catch (error) {
                if (!(error instanceof LeaseLost)) throw error;
                intervals.get(group)?.push([receivedAt, m.leaseUntil]);
              }
            }),
          );
        }
      };
      await Promise.all([producing, ...Array.from({ length: 6 }, consumer)]);
      expect(abandoned).toBeGreaterThan(0);
      for (const g of groups) {
        expect(completed.get(g)).toEqual(Array.from({ length: perGroup }, (_, i) => i));
        // Each span is [an upper bound of when the lease began, a lower bound of when it ended]. If a
        // group ever had two messages in flight, some lease would have begun before the previous one
        // ended for certain: received before that ack was even sent, or before that lease expired.
        const spans = (intervals.get(g) ?? []).sort((a, b) => a[0] - b[0]);
        for (let i = 1; i < spans.length; i++) {
          expect(spans[i]?.[0]).toBeGreaterThanOrEqual(spans[i - 1]?.[1] as number);
        }
      }
    },
    LOAD_TIMEOUT_MS,
  );
});
