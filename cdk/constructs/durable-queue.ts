import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as iam from 'aws-cdk-lib/aws-iam';
import * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

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
   * @default a new bucket: encrypted, private, TLS only; objects live as long as their messages
   */
  readonly claimCheckBucket?: s3.IBucket | false;
}

/**
 * The storage of Concord queues: one DynamoDB table (any number of queues; layout in
 * functions/adapters/dynamodb/queue-items.ts) and a claim-check bucket.
 */
export class DurableQueue extends Construct {
  public readonly table: dynamodb.Table;
  public readonly claimCheckBucket: s3.IBucket | undefined;

  constructor(scope: Construct, id: string, props: DurableQueueProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    this.table = new dynamodb.Table(this, 'Table', {
      partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
      sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
      billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
      encryption: dynamodb.TableEncryption.AWS_MANAGED,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
      // Cleans up expired dedup records; the dedup window itself is enforced by a condition.
      timeToLiveAttribute: 'ttl',
      removalPolicy,
    });
    if (props.claimCheckBucket === false) {
      this.claimCheckBucket = undefined;
    } else {
      this.claimCheckBucket =
        props.claimCheckBucket ??
        new s3.Bucket(this, 'ClaimChecks', {
          encryption: s3.BucketEncryption.S3_MANAGED,
          blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
          enforceSSL: true,
          removalPolicy,
          autoDeleteObjects: removalPolicy === RemovalPolicy.DESTROY,
          // No expiry: a claim check lives as long as its message, queued or dead-lettered, for
          // any time. Only unfinished multipart uploads are cleaned up.
          lifecycleRules: [{ abortIncompleteMultipartUploadAfter: Duration.days(1) }],
        });
    }
  }

  /** Environment variables the Concord queue library reads at cold start. */
  get environment(): Record<string, string> {
    return {
      CONCORD_QUEUE_TABLE: this.table.tableName,
      ...(this.claimCheckBucket ? { CONCORD_CLAIM_CHECK_BUCKET: this.claimCheckBucket.bucketName } : {}),
    };
  }

  /** Send (and enqueue through the outbox): put messages, read queue config, append to FIFO groups. */
  grantProduce(grantee: iam.IGrantable): iam.Grant {
    const grant = this.table.grant(grantee, 'dynamodb:PutItem', 'dynamodb:GetItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem');
    this.claimCheckBucket?.grantPut(grantee, 'concord/*');
    return grant;
  }

  /** Receive, ack, nack, extend, dead-letter, redrive, stats. */
  grantConsume(grantee: iam.IGrantable): iam.Grant {
    const grant = this.table.grant(
      grantee,
      'dynamodb:Query',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:ConditionCheckItem',
    );
    this.claimCheckBucket?.grantRead(grantee, 'concord/*');
    this.claimCheckBucket?.grantDelete(grantee, 'concord/*');
    return grant;
  }
}
