import type { RemovalPolicy } from 'aws-cdk-lib';
import * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import * as s3 from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

/**
 * Every Concord table: string `pk`/`sk`, on-demand, encrypted with an AWS-managed key, with
 * point-in-time recovery unless told otherwise.
 */
export function concordTable(
  scope: Construct,
  id: string,
  props: {
    readonly removalPolicy: RemovalPolicy;
    /** @default true */
    readonly pointInTimeRecovery?: boolean;
    readonly timeToLiveAttribute?: string;
    readonly stream?: dynamodb.StreamViewType;
  },
): dynamodb.Table {
  return new dynamodb.Table(scope, id, {
    partitionKey: { name: 'pk', type: dynamodb.AttributeType.STRING },
    sortKey: { name: 'sk', type: dynamodb.AttributeType.STRING },
    billingMode: dynamodb.BillingMode.PAY_PER_REQUEST,
    encryption: dynamodb.TableEncryption.AWS_MANAGED,
    pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: props.pointInTimeRecovery ?? true },
    ...(props.timeToLiveAttribute !== undefined ? { timeToLiveAttribute: props.timeToLiveAttribute } : {}),
    ...(props.stream !== undefined ? { stream: props.stream } : {}),
    removalPolicy: props.removalPolicy,
  });
}

/** Every Concord bucket: S3-managed encryption, no public access, TLS only. */
export function secureBucket(
  scope: Construct,
  id: string,
  props: {
    readonly removalPolicy: RemovalPolicy;
    readonly autoDeleteObjects: boolean;
    readonly lifecycleRules: s3.LifecycleRule[];
    readonly serverAccessLogsBucket?: s3.IBucket;
    readonly serverAccessLogsPrefix?: string;
  },
): s3.Bucket {
  return new s3.Bucket(scope, id, {
    encryption: s3.BucketEncryption.S3_MANAGED,
    blockPublicAccess: s3.BlockPublicAccess.BLOCK_ALL,
    enforceSSL: true,
    removalPolicy: props.removalPolicy,
    autoDeleteObjects: props.autoDeleteObjects,
    lifecycleRules: props.lifecycleRules,
    ...(props.serverAccessLogsBucket !== undefined ? { serverAccessLogsBucket: props.serverAccessLogsBucket } : {}),
    ...(props.serverAccessLogsPrefix !== undefined ? { serverAccessLogsPrefix: props.serverAccessLogsPrefix } : {}),
  });
}
