import { type HandleResult, participantLambdaHandler, sqsBatchHandler } from 'concord-aws/tx';
import { describe, expect, it } from 'vitest';

describe('sqsBatchHandler', () => {
  it('reports exactly the messages whose handling threw, so only they come back', async () => {
    const handled: string[] = [];
    const handler = sqsBatchHandler({
      handle: async (body: unknown): Promise<HandleResult> => {
        if (body === 'crash') throw new Error('participant crashed');
        handled.push(String(body));
        return { reply: undefined, applied: true, lateReply: false };
      },
    });
    const result = await handler({
      Records: [
        { messageId: 'm1', body: 'ok-1' },
        { messageId: 'm2', body: 'crash' },
        { messageId: 'm3', body: 'ok-2' },
      ],
    });
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: 'm2' }] });
    expect(handled.sort()).toEqual(['ok-1', 'ok-2']);
  });
});

describe('participantLambdaHandler', () => {
  const scheduled = { version: '0', source: 'aws.events', 'detail-type': 'Scheduled Event', detail: {}, resources: [] };

  function participantStub() {
    const calls = { handled: [] as unknown[], resolvedOlderThan: [] as number[] };
    return {
      calls,
      participant: {
        handle: async (body: unknown): Promise<HandleResult> => {
          calls.handled.push(body);
          return { reply: undefined, applied: true, lateReply: false };
        },
        resolveInDoubt: async (olderThanMs: number) => {
          calls.resolvedOlderThan.push(olderThanMs);
          return [{ txId: 't1', participant: 'debit', decision: 'COMMIT' as never }];
        },
      },
    };
  }

  it('settles in-doubt transactions when the schedule invokes it (T3), and handles no message', async () => {
    const { calls, participant } = participantStub();
    const handler = participantLambdaHandler(participant, { inDoubtAfterMs: 300_000 });
    expect(await handler(scheduled as never)).toEqual({ resolved: 1 });
    expect(calls).toEqual({ handled: [], resolvedOlderThan: [300_000] });
  });

  it('handles a batch of phase messages as sqsBatchHandler does, resolving nothing', async () => {
    const { calls, participant } = participantStub();
    const handler = participantLambdaHandler(participant, { inDoubtAfterMs: 300_000 });
    expect(await handler({ Records: [{ messageId: 'm1', body: 'prepare' }] })).toEqual({ batchItemFailures: [] });
    expect(calls).toEqual({ handled: ['prepare'], resolvedOlderThan: [] });
  });
});

describe('Participant heartbeats', () => {
  it('sends SendTaskHeartbeat while a slow phase runs, and stops after the reply', async () => {
    const { Participant } = await import('concord-aws/tx');
    const sent: string[] = [];
    const sfn = { send: async (command: { constructor: { name: string } }) => void sent.push(command.constructor.name) };
    const dynamodb = {
      send: async (command: { constructor: { name: string } }) =>
        command.constructor.name === 'GetItemCommand' ? { Item: undefined } : {},
    };
    const participant = new Participant({
      dynamodb: dynamodb as never,
      tableName: 't',
      sfn: sfn as never,
      coordinatorTable: 'c',
      heartbeatEveryMs: 20,
      handlers: {
        debit: {
          prepare: async () => {
            await new Promise((r) => setTimeout(r, 110));
            return { writes: [] };
          },
        },
      },
    });
    await participant.handle({
      transaction: 't',
      mode: '2pc',
      txId: 'tx1',
      epoch: 1,
      participant: 'debit',
      phase: 'prepare',
      payload: {},
      taskToken: 'tok',
    });
    const beats = sent.filter((name) => name === 'SendTaskHeartbeatCommand').length;
    expect(beats).toBeGreaterThanOrEqual(3);
    expect(sent.at(-1)).toBe('SendTaskSuccessCommand');
    await new Promise((r) => setTimeout(r, 60));
    expect(sent.filter((name) => name === 'SendTaskHeartbeatCommand')).toHaveLength(beats);
  });
});
