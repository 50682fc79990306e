import { ValidationError } from '../core/errors.js';
import type { ContentType } from '../core/queue/config.js';
import type { DeliveryState } from '../core/queue/delivery.js';
import type { DeadLetter, DeadLetterPage } from '../core/queue/model.js';

/** A dead letter as InMemoryQueue keeps it: with the fence its deliveries reached (a redrive goes on from it, Q2). */
export interface ShelvedDeadLetter extends DeadLetter {
  readonly fence: number;
  readonly order: number;
}

/** InMemoryQueue's dead letters, oldest first, paged by an opaque cursor as the DynamoDB queue's are. */
export class DeadLetterShelf {
  private readonly letters: ShelvedDeadLetter[] = [];
  private order = 0;

  get size(): number {
    return this.letters.length;
  }

  put(
    message: { id: string; body: string; contentType?: typeof ContentType.Json | undefined; groupId?: string | undefined; sentAt: number },
    delivery: DeliveryState,
    now: number,
    reason: string,
  ): void {
    this.letters.push({
      messageId: message.id,
      body: message.body,
      ...(message.contentType !== undefined ? { contentType: message.contentType } : {}),
      ...(message.groupId !== undefined ? { groupId: message.groupId } : {}),
      receiveCount: delivery.receiveCount,
      fence: delivery.fence,
      sentAt: message.sentAt,
      deadLetteredAt: now,
      reason,
      order: this.order++,
    });
  }

  find(messageId: string): DeadLetter | undefined {
    const found = this.letters.find((d) => d.messageId === messageId);
    return found ? publicView(found) : undefined;
  }

  /** Takes one dead letter out by id (a delete, or a redrive of one). */
  take(messageId: string): ShelvedDeadLetter | undefined {
    const at = this.letters.findIndex((d) => d.messageId === messageId);
    return at < 0 ? undefined : this.letters.splice(at, 1)[0];
  }

  /** Takes the oldest dead letter out (a redrive). */
  takeOldest(): ShelvedDeadLetter | undefined {
    return this.letters.shift();
  }

  page(limit: number, cursor: string | undefined): DeadLetterPage {
    let start = 0;
    if (cursor !== undefined) {
      const after = /^dl(\d+)$/.exec(cursor);
      if (!after) throw new ValidationError('cursor', 'not a cursor returned by this queue');
      start = this.letters.findIndex((d) => d.order > Number(after[1]));
      if (start < 0) start = this.letters.length;
    }
    const page = this.letters.slice(start, start + limit);
    const last = page.at(-1);
    const more = start + limit < this.letters.length;
    return {
      deadLetters: page.map(publicView),
      ...(more && last ? { nextCursor: `dl${last.order}` } : {}),
    };
  }
}

function publicView({ fence: _fence, order: _order, ...deadLetter }: ShelvedDeadLetter): DeadLetter {
  return deadLetter;
}
