import { App, Validations } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { beforeAll, describe, expect, it } from 'vitest';
import { API_ROUTES, CONSOLE_ROUTES } from '../../../cdk/constructs/index.js';
import { ConcordExampleStack } from '../../../cdk/stacks/example-stack.js';
import { acknowledgeReviewedFindings } from '../../../cdk/stacks/nag-acknowledgements.js';

type Statement = { Action: string | string[]; Resource: unknown; Effect: string };
type Policy = { Properties: { PolicyDocument: { Statement: Statement[] }; Roles: Array<{ Ref: string }> } };

describe('ConcordExampleStack', () => {
  let template: Template;
  let stack: ConcordExampleStack;
  let app: App;

  beforeAll(() => {
    app = new App();
    stack = new ConcordExampleStack(app, 'Example', { sourceHash: 'test' });
    Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
    acknowledgeReviewedFindings(stack);
    template = Template.fromStack(stack);
  }, 120_000);

  /** Every action granted to the role of the function whose logical id starts with `prefix`. */
  function actionsOf(prefix: string): string[] {
    const roles = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => id.startsWith(prefix));
    expect(roles.length, `a role for ${prefix}`).toBeGreaterThan(0);
    return Object.values(template.findResources('AWS::IAM::Policy') as Record<string, Policy>)
      .filter((p) => p.Properties.Roles.some((r) => roles.includes(r.Ref)))
      .flatMap((p) => p.Properties.PolicyDocument.Statement)
      .flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]))
      .sort();
  }

  describe('the express engine', () => {
    const machines = () =>
      Object.values(
        template.findResources('AWS::StepFunctions::StateMachine') as Record<
          string,
          { Properties: { StateMachineType: string; StateMachineName?: string; LoggingConfiguration?: { Level: string } } }
        >,
      );

    it('deploys an EXPRESS state machine per express definition, with logging (its only execution record)', () => {
      const types = machines()
        .map((m) => m.Properties.StateMachineType)
        .sort();
      expect(types).toEqual(['EXPRESS', 'EXPRESS', 'STANDARD', 'STANDARD']);
      for (const m of machines()) expect(m.Properties.LoggingConfiguration?.Level).toBe('ALL');
    });

    it('lets the express state machines invoke the participant functions, and nothing else of Lambda', () => {
      const express = Object.keys(template.findResources('AWS::IAM::Role')).filter((id) => /express.*Role/i.test(id));
      expect(express.length).toBe(2);
      for (const role of express) expect(actionsOf(role.replace(/Role[0-9A-F]+$/, 'Role'))).toContain('lambda:InvokeFunction');
    });

    it('lets the API run an express transfer synchronously (StartSyncExecution)', () => {
      expect(actionsOf('ApiHandlerRole')).toContain('states:StartSyncExecution');
    });
  });

  it('has no unacknowledged cdk-nag AwsSolutions errors', () => {
    const errors = Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'));
    expect(errors.map((e) => `${e.id}: ${String(e.entry.data).slice(0, 160)}`)).toEqual([]);
  });

  it('runs every function on Node.js 24, arm64, with its own log group', () => {
    const functions = template.findResources('AWS::Lambda::Function');
    const ours = Object.values(functions).filter((f) => (f as { Properties: { Handler?: string } }).Properties.Handler === 'index.handler');
    expect(ours.length).toBeGreaterThanOrEqual(6);
    for (const f of ours as Array<{ Properties: Record<string, unknown> }>) {
      expect(f.Properties.Runtime).toBe('nodejs24.x');
      expect(f.Properties.Architectures).toEqual(['arm64']);
      expect(f.Properties.LoggingConfig).toMatchObject({ LogFormat: 'JSON' });
    }
  });

  it('encrypts every table, queue and bucket at rest', () => {
    for (const table of Object.values(template.findResources('AWS::DynamoDB::Table'))) {
      expect((table as { Properties: { SSESpecification?: unknown } }).Properties.SSESpecification).toEqual({ SSEEnabled: true });
    }
    for (const queue of Object.values(template.findResources('AWS::SQS::Queue'))) {
      expect((queue as { Properties: { SqsManagedSseEnabled?: boolean } }).Properties.SqsManagedSseEnabled).toBe(true);
    }
    template.hasResourceProperties('AWS::S3::Bucket', { BucketEncryption: Match.anyValue() });
  });

  it('declares every documented route plus a $default catch-all, authorized by IAM; only the console page is public', () => {
    const routes = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => (r as { Properties: { RouteKey: string; AuthorizationType?: string } }).Properties,
    );
    expect(routes.map((r) => r.RouteKey).sort()).toEqual([...API_ROUTES, ...CONSOLE_ROUTES, '$default'].sort());
    const isConsole = (key: string) => (CONSOLE_ROUTES as readonly string[]).includes(key);
    expect(routes.filter((r) => !isConsole(r.RouteKey)).every((r) => r.AuthorizationType === 'AWS_IAM')).toBe(true);
    // The page, script and style: static, no data; what they fetch from /v1 is authorized as above.
    expect(routes.filter((r) => isConsole(r.RouteKey)).map((r) => r.AuthorizationType ?? 'NONE')).toEqual(['NONE', 'NONE']);
  });

  it('lets the sweeper start and stop executions, never send participant messages', () => {
    const actions = actionsOf('CoordinatorSweeper');
    expect(actions).toEqual(
      expect.arrayContaining(['states:StartExecution', 'states:StopExecution', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem']),
    );
    expect(actions.some((a) => a.startsWith('sqs:'))).toBe(false);
  });

  it('gives the coordinator table the sparse open index and the by-status index (status, createdAt; keys only)', () => {
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      GlobalSecondaryIndexes: Match.arrayWith([
        Match.objectLike({ IndexName: 'open', Projection: { ProjectionType: 'KEYS_ONLY' } }),
        Match.objectLike({
          IndexName: 'by-status',
          KeySchema: [
            { AttributeName: 'ls', KeyType: 'HASH' },
            { AttributeName: 'createdAt', KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'KEYS_ONLY' },
        }),
      ]),
    });
  });

  it('lets the API list and retry transactions (the by-status index, a fenced recovery run) and inspect the queue', () => {
    const actions = actionsOf('ApiHandler');
    expect(actions).toEqual(
      expect.arrayContaining([
        'dynamodb:Query',
        'dynamodb:BatchGetItem',
        'dynamodb:ConditionCheckItem',
        'states:StartExecution',
        'states:StopExecution',
      ]),
    );
    const policies = Object.values(template.findResources('AWS::IAM::Policy') as Record<string, Policy>).filter((p) =>
      p.Properties.Roles.some((r) => r.Ref.startsWith('ApiHandler')),
    );
    expect(JSON.stringify(policies)).toContain('/index/by-status');
  });

  it('lets a participant answer task tokens and read decisions, and nothing of the other bank', () => {
    const actions = actionsOf('bankaParticipant');
    expect(actions).toEqual(
      expect.arrayContaining(['states:SendTaskSuccess', 'states:SendTaskFailure', 'sqs:ReceiveMessage', 'sqs:DeleteMessage']),
    );
    const policies = Object.values(template.findResources('AWS::IAM::Policy') as Record<string, Policy>).filter((p) =>
      p.Properties.Roles.some((r) => r.Ref.startsWith('bankaParticipant')),
    );
    expect(JSON.stringify(policies)).not.toContain('bankbTable');
  });

  it('lets the state machines send to participant queues and write only the coordinator table', () => {
    const actions = actionsOf('Coordinatortransfer2pc');
    expect(actions).toEqual(expect.arrayContaining(['sqs:SendMessage', 'dynamodb:UpdateItem', 'dynamodb:GetItem', 'dynamodb:PutItem']));
    expect(actions).not.toContain('dynamodb:DeleteItem');
  });

  it('alarms on the age of the oldest message and on dead letters', () => {
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'ApproximateAgeOfOldestMessage', Namespace: 'Concord' });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'DeadLettered', Namespace: 'Concord', Threshold: 1 });
  });

  it('wakes the consumer on new messages of its queues only, and sweeps on a schedule', () => {
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FilterCriteria: { Filters: [{ Pattern: Match.stringLikeRegexp('Q#account-events#') }] },
    });
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)' });
  });

  it('invokes each participant on a schedule to settle in-doubt transactions (T3)', () => {
    const functions = Object.entries(template.findResources('AWS::Lambda::Function'))
      .map(([logicalId]) => logicalId)
      .filter((id) => /^bank[ab]Participant/.test(id));
    expect(functions).toHaveLength(2);
    for (const fn of functions) {
      template.hasResourceProperties('AWS::Events::Rule', {
        ScheduleExpression: 'rate(5 minutes)',
        Targets: [Match.objectLike({ Arn: { 'Fn::GetAtt': [fn, 'Arn'] } })],
      });
    }
  });

  it('gives participant queues a dead-letter queue and reports partial batch failures', () => {
    template.hasResourceProperties('AWS::SQS::Queue', { RedrivePolicy: Match.objectLike({ maxReceiveCount: 10 }) });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', { FunctionResponseTypes: ['ReportBatchItemFailures'] });
  });
});
