import { Duration, Lazy, RemovalPolicy } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { STREAM_KEY_PREFIXES } from '../../functions/adapters/dynamodb/queue/layout.js';
import { EnvVar } from '../../functions/config/variables.js';
import { ConcordFunction } from './function.js';
import { grantObjects, grantTable } from './grants.js';
import { concordTable, secureBucket } from './storage.js';

export interface DurableQueueProps {
  /**
   * What happens to the table and bucket when the stack is deleted.
   * @default RemovalPolicy.RETAIN (messages are data)
   */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * Continuous backups of the queue table.
   * @default true
   */
  readonly pointInTimeRecovery?: boolean;
  /**
   * The S3 bucket for claim checks (bodies over the item budget). `false` for none: such bodies
   * are then rejected with 413.
   * @default a new bucket: encrypted, private, TLS only, access-logged; objects live as long as
   *   their messages
   */
  readonly claimCheckBucket?: s3.IBucket | false;
  /**
   * Empty the buckets this construct creates when the stack is deleted (a custom resource).
   * @default false
   */
  readonly autoDeleteObjects?: boolean;
}

export interface ConsumerOptions {
  /** The queues this function consumes (it is woken for new messages of these only). */
  readonly queues: readonly string[];
  /**
   * How often the function is also invoked on a schedule, for what the stream does not announce
   * (expired leases, delays that ended). @default Duration.minutes(1)
   */
  readonly sweepEvery?: Duration;
}

export interface WatchOptions {
  /** Alarm when the oldest message waits longer than this. @default Duration.minutes(5) */
  readonly maxAgeOfOldestMessage?: Duration;
  /** Alarm when at least this many messages are dead-lettered. @default 1 */
  readonly deadLetterThreshold?: number;
  /**
   * The CloudWatch namespace of the metrics and alarms. One per DurableQueue: every `watch` call
   * on a queue table must use the same one (the metrics function publishes to a single namespace).
   * @default 'Concord'
   */
  readonly metricsNamespace?: string;
}

/**
 * The storage of Concord queues: one DynamoDB table (any number of queues; layout in
 * functions/adapters/dynamodb/queue/layout.ts) with a stream (the consumers' doorbell) and a
 * claim-check bucket; plus consumer wiring and alarms.
 */
export class DurableQueue extends Construct {
  public readonly table: dynamodb.Table;
  public readonly claimCheckBucket: s3.IBucket | undefined;
  /** Alarms by queue name: age of the oldest message, and dead-letter depth. */
  public readonly alarms: Record<string, { oldestMessage: cloudwatch.Alarm; deadLetters: cloudwatch.Alarm }> = {};
  /** The metrics function publishes every queue of every `watch` call, in this namespace. */
  private metrics: { readonly namespace: string; readonly queues: string[] } | undefined;

  constructor(scope: Construct, id: string, props: DurableQueueProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.table = concordTable(this, 'Table', {
      removalPolicy,
      pointInTimeRecovery: props.pointInTimeRecovery ?? true,
      // Cleans up expired dedup records; the dedup window itself is enforced by a condition.
      timeToLiveAttribute: 'ttl',
      // The consumers' doorbell. Keys only: a consumer learns which queue has news, then leases.
      stream: dynamodb.StreamViewType.KEYS_ONLY,
    });
    if (props.claimCheckBucket === false) {
      this.claimCheckBucket = undefined;
    } else {
      const autoDeleteObjects = props.autoDeleteObjects ?? false;
      const accessLogs =
        props.claimCheckBucket === undefined
          ? secureBucket(this, 'ClaimCheckAccessLogs', {
              removalPolicy,
              autoDeleteObjects,
              lifecycleRules: [{ expiration: Duration.days(90) }],
            })
          : undefined;
      this.claimCheckBucket =
        props.claimCheckBucket ??
        secureBucket(this, 'ClaimChecks', {
          removalPolicy,
          autoDeleteObjects,
          ...(accessLogs ? { serverAccessLogsBucket: accessLogs } : {}),
          serverAccessLogsPrefix: 'claim-checks/',
          // No expiry: a claim check lives as long as its message, queued or dead-lettered, for
          // any time. Only unfinished multipart uploads are cleaned up.
          lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
        });
    }
  }

  /** Environment variables the Concord queue library reads at cold start. */
  get environment(): Record<string, string> {
    return {
      [EnvVar.QueueTable]: this.table.tableName,
      ...(this.claimCheckBucket ? { [EnvVar.ClaimCheckBucket]: this.claimCheckBucket.bucketName } : {}),
    };
  }

  /** Send (and enqueue through the outbox): put messages, read queue config, append to FIFO groups. */
  grantProduce(grantee: iam.IGrantable): void {
    grantTable(this.table, grantee, ['dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem']);
    if (this.claimCheckBucket) grantObjects(this.claimCheckBucket, grantee, ['s3:PutObject']);
  }

  /** The operators' views: list queues, peek (a FIFO peek reads its groups with BatchGetItem), one dead letter. */
  grantInspect(grantee: iam.IGrantable): void {
    grantTable(this.table, grantee, ['dynamodb:Query', 'dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:DeleteItem']);
    if (this.claimCheckBucket) grantObjects(this.claimCheckBucket, grantee, ['s3:GetObject', 's3:DeleteObject']);
  }

  /** Receive, ack, nack, extend, dead-letter, redrive, stats. */
  grantConsume(grantee: iam.IGrantable): void {
    grantTable(this.table, grantee, [
      'dynamodb:Query',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:ConditionCheckItem',
    ]);
    if (this.claimCheckBucket) grantObjects(this.claimCheckBucket, grantee, ['s3:GetObject', 's3:DeleteObject']);
  }

  /**
   * Wakes `fn` when messages arrive in `queues` (the table's stream, filtered to their message
   * items: about a second, and Lambda's stream reads are free), and on a schedule for expired
   * leases and ended delays. Grants it what a consumer needs. The function must not throw for a
   * stream batch (a failed batch blocks its shard): drain, nack what fails, return.
   */
  addConsumer(fn: lambda.Function, options: ConsumerOptions): void {
    this.grantConsume(fn);
    fn.addEventSource(
      new DynamoEventSource(this.table, {
        startingPosition: lambda.StartingPosition.LATEST,
        batchSize: 100,
        retryAttempts: 2,
        maxRecordAge: Duration.minutes(5),
        // New message items of these queues only: standard (M#) and FIFO (F#) messages.
        filters: [
          lambda.FilterCriteria.filter({
            eventName: lambda.FilterRule.isEqual('INSERT'),
            dynamodb: {
              Keys: {
                pk: { S: options.queues.map((q) => ({ prefix: STREAM_KEY_PREFIXES.partitionOf(q) })) },
                sk: { S: STREAM_KEY_PREFIXES.messageSortKeys.map((prefix) => ({ prefix })) },
              },
            },
          }),
        ],
      }),
    );
    new events.Rule(this, `${fn.node.id}Sweep`, {
      schedule: events.Schedule.rate(options.sweepEvery ?? Duration.minutes(1)),
      targets: [new targets.LambdaFunction(fn)],
    });
  }

  /**
   * Publishes depth metrics of `queues` every minute and alarms on the age of the oldest message
   * and on dead-letter depth (one alarm pair per queue, in `alarms`).
   */
  watch(queues: readonly string[], options: WatchOptions = {}): void {
    const namespace = options.metricsNamespace ?? 'Concord';
    if (queues.length === 0) throw new Error('DurableQueue.watch: queues must not be empty');
    const metrics = this.metrics ?? this.createMetricsFunction(namespace);
    if (namespace !== metrics.namespace) {
      throw new Error(
        `DurableQueue.watch: metricsNamespace ${JSON.stringify(namespace)} differs from ${JSON.stringify(metrics.namespace)} of an earlier watch() on this queue table`,
      );
    }
    const again = queues.filter((queue) => metrics.queues.includes(queue));
    if (again.length > 0) throw new Error(`DurableQueue.watch: already watching ${JSON.stringify(again)}`);
    metrics.queues.push(...queues);
    for (const queue of queues) {
      const metric = (name: string, statistic: string) =>
        new cloudwatch.Metric({
          namespace,
          metricName: name,
          dimensionsMap: { Queue: queue, service: 'concord-queue' },
          statistic,
          period: Duration.minutes(1),
        });
      this.alarms[queue] = {
        oldestMessage: new cloudwatch.Alarm(this, `${queue}OldestMessage`, {
          alarmDescription: `Concord queue ${queue}: the oldest message has waited too long`,
          metric: metric('ApproximateAgeOfOldestMessage', 'Maximum'),
          threshold: (options.maxAgeOfOldestMessage ?? Duration.minutes(5)).toSeconds(),
          evaluationPeriods: 3,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.BREACHING,
        }),
        deadLetters: new cloudwatch.Alarm(this, `${queue}DeadLetters`, {
          alarmDescription: `Concord queue ${queue}: messages were dead-lettered`,
          metric: metric('DeadLettered', 'Maximum'),
          threshold: options.deadLetterThreshold ?? 1,
          evaluationPeriods: 1,
          comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
        }),
      };
    }
  }

  /**
   * One metrics function per queue table, created by the first `watch`. Its queue list is read at
   * synthesis, so queues of later `watch` calls are published too.
   */
  private createMetricsFunction(namespace: string): { readonly namespace: string; readonly queues: string[] } {
    const metrics = { namespace, queues: [] as string[] };
    const fn = new ConcordFunction(this, 'Metrics', {
      handler: 'queue-metrics',
      description: 'Publishes Concord queue depth metrics',
      environment: {
        ...this.environment,
        [EnvVar.WatchedQueues]: Lazy.string({ produce: () => metrics.queues.join(',') }),
        [EnvVar.MetricsNamespace]: namespace,
      },
    });
    grantTable(this.table, fn, ['dynamodb:Query', 'dynamodb:GetItem']);
    new events.Rule(this, 'MetricsSchedule', {
      schedule: events.Schedule.rate(Duration.minutes(1)),
      targets: [new targets.LambdaFunction(fn)],
    });
    this.metrics = metrics;
    return metrics;
  }
}
