/**
 * Publishes each watched queue's depth as CloudWatch metrics (embedded metric format, via
 * Powertools), every minute: the DurableQueue construct alarms on the age of the oldest message
 * and on dead-letter depth. A DynamoDB queue has no built-in metrics; this costs one paginated
 * eventually consistent read of each queue per minute (docs/queue.md, "stats").
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { createQueueService } from 'concord-aws/queue';
import { list, readEnv, required } from '../config/env.js';
import { EnvVar } from '../config/variables.js';

const env = readEnv({
  [EnvVar.QueueTable]: required,
  [EnvVar.WatchedQueues]: list,
  [EnvVar.MetricsNamespace]: required.default('Concord'),
});

const queues = createQueueService({ dynamodb: new DynamoDBClient({}), tableName: env[EnvVar.QueueTable] });
const metrics = new Metrics({ namespace: env[EnvVar.MetricsNamespace], serviceName: 'concord-queue' });

export const handler = async (): Promise<Record<string, unknown>> => {
  const out: Record<string, unknown> = {};
  for (const name of env[EnvVar.WatchedQueues]) {
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
