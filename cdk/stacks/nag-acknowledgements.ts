import { type Stack, Validations } from 'aws-cdk-lib';
import type { IConstruct } from 'constructs';
import { TRANSFER_DEFINITIONS } from '../../functions/bank/transfer.js';

/**
 * cdk-nag AwsSolutions findings reviewed and accepted. Each names the finding it accepts (never a
 * whole rule) and says why.
 */
export function acknowledgeReviewedFindings(stack: Stack, options: { localEmulator?: boolean } = {}): void {
  const at = (path: string): IConstruct | undefined => stack.node.tryFindChild(path.split('/')[0] as string) && find(stack, path);
  const acknowledge = (path: string, id: string, reason: string) => {
    const scope = at(path);
    if (scope) Validations.of(scope).acknowledge({ id, reason });
  };
  for (const machine of TRANSFER_DEFINITIONS.map((d) => d.name)) {
    acknowledge(
      `Coordinator/${machine}/Role`,
      'AwsSolutions-IAM5[Resource::*]',
      'X-Ray trace segments and CloudWatch Logs vended-log delivery (logs:CreateLogDelivery and friends) have no resource-level permissions; CDK adds exactly these for tracing and logging.',
    );
  }
  acknowledge(
    'ConsumerRole',
    'AwsSolutions-IAM5[Resource::*]',
    'dynamodb:ListStreams has no resource-level permission; the event source mapping needs it. Reading the stream is scoped to the queue table.',
  );
  for (const role of ['ApiHandlerRole', 'ConsumerRole']) {
    acknowledge(
      role.startsWith('Api') ? 'Api/HandlerRole' : role,
      'AwsSolutions-IAM5[Resource::<QueueClaimChecks1CF81771.Arn>/concord/*]',
      'Claim-check objects are keyed by message id under concord/; the grant is limited to that prefix and to exact object actions.',
    );
  }
  acknowledge(
    'Coordinator/SweeperRole',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<Coordinatortransfer2pcC52F48A5.Name>:*]',
    'The sweeper stops the executions of a stuck transaction; execution names are transaction ids, so only the state machine can be named.',
  );
  acknowledge(
    'Coordinator/SweeperRole',
    'AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<Coordinatortransfersaga6732CDF9.Name>:*]',
    'The sweeper stops the executions of a stuck transaction; execution names are transaction ids, so only the state machine can be named.',
  );
  for (const machine of ['Coordinatortransfer2pcC52F48A5', 'Coordinatortransfersaga6732CDF9']) {
    acknowledge(
      'Api/HandlerRole',
      `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:states:<AWS::Region>:<AWS::AccountId>:execution:<${machine}.Name>:*]`,
      "An operator's retry of a STUCK transaction stops its last execution (if still running) before the recovery run; execution names are transaction ids, so only the state machine can be named.",
    );
  }
  if (options.localEmulator) {
    acknowledge(
      'Api/HttpApi',
      'AwsSolutions-APIG4',
      'Deployments to the local emulator (-c local=true) only: it verifies no SigV4 signatures. Deployments to AWS use the IAM authorizer (or JWT).',
    );
  }
  for (const route of ['GET--console', 'GET--console--{file+}']) {
    acknowledge(
      `Api/HttpApi/${route}`,
      'AwsSolutions-APIG4',
      "The operators' console's page, script and style: static files with no data, which a browser must fetch before it can sign or attach a token. Every call the page makes goes to /v1 routes, authorized as any other.",
    );
  }
  acknowledge(
    'Queue/ClaimCheckAccessLogs',
    'AwsSolutions-S1',
    'This is the access-log bucket of the claim-check bucket; logging it to itself or to another bucket would not add an audit trail.',
  );
}

function find(root: IConstruct, path: string): IConstruct | undefined {
  let node: IConstruct | undefined = root;
  for (const part of path.split('/')) node = node?.node.tryFindChild(part);
  return node;
}
