import { Duration } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import { type HandlerName, handlerCode } from './handler-code.js';

export interface ConcordFunctionProps {
  /** Which of Concord's prebuilt handlers runs (handler-code.ts). */
  readonly handler: HandlerName;
  readonly environment?: Record<string, string>;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 256 */
  readonly memorySize?: number;
  readonly description?: string;
}

/**
 * Every Concord Lambda: Node.js 24 on arm64, running a bundle made when the package was built
 * (the AWS SDK inside it, never the runtime's copy, so the version is the one package-lock.json
 * pins and the one the tests ran; built for node20 too, so that an emulator running the machine's
 * Node 20 runs the same file), JSON logs kept a month. Each function has its own role that may
 * write to its own log group and nothing else until granted (no AWSLambdaBasicExecutionRole, whose
 * log permissions span every group).
 */
export class ConcordFunction extends lambda.Function {
  constructor(scope: Construct, id: string, props: ConcordFunctionProps) {
    const logGroup = new logs.LogGroup(scope, `${id}Logs`, { retention: logs.RetentionDays.ONE_MONTH });
    const role = new iam.Role(scope, `${id}Role`, { assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com') });
    role.addToPolicy(
      new iam.PolicyStatement({ actions: ['logs:CreateLogStream', 'logs:PutLogEvents'], resources: [logGroup.logGroupArn] }),
    );
    super(scope, id, {
      role,
      code: handlerCode(props.handler),
      handler: 'index.handler',
      runtime: lambda.Runtime.NODEJS_24_X,
      architecture: lambda.Architecture.ARM_64,
      memorySize: props.memorySize ?? 256,
      timeout: props.timeout ?? Duration.seconds(30),
      ...(props.description ? { description: props.description } : {}),
      environment: {
        NODE_OPTIONS: '--enable-source-maps',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
        ...props.environment,
      },
      loggingFormat: lambda.LoggingFormat.JSON,
      logGroup,
    });
  }
}
