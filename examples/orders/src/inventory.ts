/**
 * The inventory service as a participant of the reserve-stock transaction: phase one holds the
 * stock (a NO vote when there is not enough), commit takes it, abort gives the hold back. Each
 * phase applies at most once per transaction, whatever the duplicates (Concord's Participant).
 */
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { SFNClient } from '@aws-sdk/client-sfn';
import { Participant, type PhaseContext, participantLambdaHandler } from 'concord-aws/tx';
import { Env, type Reservation, required, stockKey } from './orders.js';

const dynamodb = new DynamoDBClient({});
const table = required(Env.InventoryTable);

const update = (ctx: PhaseContext<Reservation>, expression: string, condition?: string) => ({
  writes: [
    {
      Update: {
        TableName: table,
        Key: stockKey(ctx.payload.item),
        UpdateExpression: expression,
        ExpressionAttributeValues: { ':q': { N: String(ctx.payload.quantity) } },
        ...(condition ? { ConditionExpression: condition } : {}),
      },
    },
  ],
});

export const participant = new Participant<Reservation>({
  dynamodb,
  tableName: table,
  sfn: new SFNClient({}),
  coordinatorTable: required('CONCORD_COORDINATOR_TABLE'),
  handlers: {
    reserve: {
      async prepare(ctx) {
        const { Item: stock } = await ctx.dynamodb.send(
          new GetItemCommand({ TableName: table, Key: stockKey(ctx.payload.item), ConsistentRead: true }),
        );
        const free = Number(stock?.available?.N ?? 0) - Number(stock?.held?.N ?? 0);
        if (free < ctx.payload.quantity) return { decline: `only ${free} of ${ctx.payload.item} left` };
        // The condition is checked again when the hold commits with the participant's record.
        return update(ctx, 'ADD held :q', 'available - held >= :q');
      },
      commit: async (ctx) => update(ctx, 'SET available = available - :q, held = held - :q'),
      abort: async (ctx) => update(ctx, 'SET held = held - :q'),
    },
  },
});

export const handler = participantLambdaHandler(participant, { inDoubtAfterMs: 300_000 });
