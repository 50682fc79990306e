import { describe, expect, it } from 'vitest';
import { type HandleResult, sqsBatchHandler } from '../../../functions/adapters/tx/participant';

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
