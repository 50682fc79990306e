/**
 * Publishes each watched queue's depth as CloudWatch metrics (embedded metric format, via
 * Powertools), every minute: the DurableQueue construct alarms on the age of the oldest message
 * and on dead-letter depth. A DynamoDB queue has no built-in metrics; this costs one paginated
 * eventually consistent read of each queue per minute (docs/queue.md, "stats").
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { list, readEnv, required } from '../adapters/env';
import { QueueService } from '../queue';

const env = readEnv({
  CONCORD_QUEUE_TABLE: required,
  CONCORD_WATCHED_QUEUES: list,
  CONCORD_METRICS_NAMESPACE: required.default('Concord'),
});

const queues = new QueueService({ dynamodb: new DynamoDBClient({}), tableName: env.CONCORD_QUEUE_TABLE });
const metrics = new Metrics({ namespace: env.CONCORD_METRICS_NAMESPACE, serviceName: 'concord-queue' });

export const handler = async (): Promise<Record<string, unknown>> => {
  const out: Record<string, unknown> = {};
  for (const name of env.CONCORD_WATCHED_QUEUES) {
    const stats = await queues.queue(name).stats();
    const single = metrics.singleMetric();
    single.addDimension('Queue', name);
    single.addMetric('ApproximateAgeOfOldestMessage', MetricUnit.Seconds, stats.oldestAgeSeconds);
    single.addMetric('Visible', MetricUnit.Count, stats.visible);
    single.addMetric('InFlight', MetricUnit.Count, stats.inFlight);
    single.addMetric('Delayed', MetricUnit.Count, stats.delayed);
    single.addMetric('DeadLettered', MetricUnit.Count, stats.deadLettered);
    single.publishStoredMetrics();
    out[name] = stats;
  }
  return out;
};
