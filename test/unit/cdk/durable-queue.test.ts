import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import { describe, expect, it } from 'vitest';
import { DurableQueue } from '../../../cdk/constructs/index.js';

function synth(build: (stack: Stack) => void): Template {
  const stack = new Stack(new App(), 'Test');
  build(stack);
  return Template.fromStack(stack);
}

describe('DurableQueue construct', () => {
  it('creates an encrypted on-demand table with the key layout the library expects, TTL and PITR', () => {
    const template = synth((stack) => new DurableQueue(stack, 'Q'));
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      BillingMode: 'PAY_PER_REQUEST',
      SSESpecification: { SSEEnabled: true },
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    });
    template.hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain' });
  });

  it('creates a private, TLS-only claim-check bucket whose objects never expire under a live message', () => {
    const template = synth((stack) => new DurableQueue(stack, 'Q'));
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
      LifecycleConfiguration: {
        Rules: [Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, Status: 'Enabled' })],
      },
    });
    const buckets = Object.values(template.findResources('AWS::S3::Bucket')) as Array<{
      Properties: { LifecycleConfiguration: { Rules: object[] }; LoggingConfiguration?: object };
    }>;
    // The claim-check bucket is the access-logged one; its objects never expire.
    const claimChecks = buckets.filter((b) => b.Properties.LoggingConfiguration !== undefined);
    expect(claimChecks).toHaveLength(1);
    expect(claimChecks[0]?.Properties.LifecycleConfiguration.Rules.some((r) => 'ExpirationInDays' in r)).toBe(false);
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]),
      },
    });
  });

  it('grants producers and consumers only the calls they make', () => {
    const template = synth((stack) => {
      const queue = new DurableQueue(stack, 'Q', { claimCheckBucket: false });
      queue.grantProduce(new iam.Role(stack, 'Producer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
      queue.grantConsume(new iam.Role(stack, 'Consumer', { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') }));
    });
    const policies = template.findResources('AWS::IAM::Policy');
    const actionsOf = (prefix: string) =>
      Object.entries(policies)
        .filter(([id]) => id.startsWith(prefix))
        .flatMap(
          ([, p]) =>
            (p as { Properties: { PolicyDocument: { Statement: Array<{ Action: string | string[] }> } } }).Properties.PolicyDocument
              .Statement,
        )
        .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
        .sort();
    expect(actionsOf('Producer')).toEqual(['dynamodb:ConditionCheckItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(actionsOf('Consumer')).toEqual([
      'dynamodb:ConditionCheckItem',
      'dynamodb:DeleteItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    template.resourceCountIs('AWS::S3::Bucket', 0);
  });

  describe('watch', () => {
    /** The environment of the one metrics function (the only one that reads CONCORD_WATCHED_QUEUES). */
    function metricsEnvironment(template: Template): Record<string, unknown> {
      const functions = Object.values(template.findResources('AWS::Lambda::Function')) as Array<{
        Properties: { Environment?: { Variables?: Record<string, unknown> } };
      }>;
      const metrics = functions.filter((f) => f.Properties.Environment?.Variables?.CONCORD_WATCHED_QUEUES !== undefined);
      expect(metrics).toHaveLength(1);
      return metrics[0]?.Properties.Environment?.Variables ?? {};
    }

    it('publishes metrics for the queues of every watch call, from one function', () => {
      const template = synth((stack) => {
        const queue = new DurableQueue(stack, 'Q', { claimCheckBucket: false });
        queue.watch(['orders']);
        queue.watch(['payments', 'refunds']);
      });
      expect(metricsEnvironment(template)).toMatchObject({
        CONCORD_WATCHED_QUEUES: 'orders,payments,refunds',
        CONCORD_METRICS_NAMESPACE: 'Concord',
      });
      for (const queue of ['orders', 'payments', 'refunds']) {
        template.hasResourceProperties('AWS::CloudWatch::Alarm', {
          MetricName: 'ApproximateAgeOfOldestMessage',
          Dimensions: Match.arrayWith([{ Name: 'Queue', Value: queue }]),
        });
      }
      template.resourceCountIs('AWS::Events::Rule', 1);
    });

    it('publishes to the namespace it was given', () => {
      const template = synth((stack) => {
        const queue = new DurableQueue(stack, 'Q', { claimCheckBucket: false });
        queue.watch(['orders'], { metricsNamespace: 'Shop' });
        queue.watch(['payments'], { metricsNamespace: 'Shop' });
      });
      expect(metricsEnvironment(template)).toMatchObject({ CONCORD_METRICS_NAMESPACE: 'Shop' });
      template.hasResourceProperties('AWS::CloudWatch::Alarm', {
        Namespace: 'Shop',
        Dimensions: Match.arrayWith([{ Name: 'Queue', Value: 'payments' }]),
      });
    });

    it('refuses a namespace other than the one metrics are published to', () => {
      expect(() =>
        synth((stack) => {
          const queue = new DurableQueue(stack, 'Q', { claimCheckBucket: false });
          queue.watch(['orders']);
          queue.watch(['payments'], { metricsNamespace: 'Shop' });
        }),
      ).toThrow(/metricsNamespace "Shop" differs from "Concord"/);
    });

    it('refuses a queue watched twice and an empty list', () => {
      const queue = new DurableQueue(new Stack(new App(), 'Test'), 'Q', { claimCheckBucket: false });
      queue.watch(['orders']);
      expect(() => queue.watch(['orders'])).toThrow(/already watching \["orders"\]/);
      expect(() => queue.watch([])).toThrow(/must not be empty/);
    });
  });
});
