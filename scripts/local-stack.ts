/**
 * Deploys the CDK app (cdk/app.ts) to a local emulator with the CDK CLI — the real synthesized
 * template, not a copy — and finds the HTTP API's local URL. Used by `npm start` and the e2e tests.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CloudFormationClient, DescribeStacksCommand } from '@aws-sdk/client-cloudformation';
import { DynamoDBClient, UpdateTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { buildHandlers } from './build.js';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

export const STACK_NAME = 'ConcordExample';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const credentials = { accessKeyId: 'test', secretAccessKey: 'test' };
const region = 'us-east-1';

export interface LocalStack {
  readonly apiUrl: string;
  readonly outputs: Record<string, string>;
  readonly deployed: boolean;
}

/** Sources that no deployed Lambda bundles: the operators' CLI runs on the operator's machine. */
const NOT_DEPLOYED = new Set([join('functions', 'cli')]);

/** A hash of everything that goes into the deployed app: when it matches, redeploying changes nothing. */
export function sourceHash(): string {
  const hash = createHash('sha256');
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      const path = join(dir, name);
      if (NOT_DEPLOYED.has(relative(root, path))) continue;
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|tsx|json|mjs|html|css)$/.test(name)) hash.update(relative(root, path)).update(readFileSync(path));
    }
  };
  walk(join(root, 'cdk'));
  walk(join(root, 'functions'));
  // The console's page is deployed with the API (dist/handlers/api/console).
  walk(join(root, 'console'));
  for (const file of ['package-lock.json', 'cdk.json']) hash.update(readFileSync(join(root, file)));
  return hash.digest('hex').slice(0, 16);
}

/** The environment the CDK CLI runs with against `endpoint`: its own CDK_HOME, test credentials. */
export function cdkEnvironment(endpoint: string): NodeJS.ProcessEnv {
  return {
    ...process.env,
    CDK_HOME: join(root, '.cdk-home'),
    AWS_ENDPOINT_URL: endpoint,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_REGION: region,
    AWS_DEFAULT_REGION: region,
    CDK_DEFAULT_ACCOUNT: '000000000000',
    CDK_DEFAULT_REGION: region,
    CDK_DISABLE_VERSION_CHECK: 'true',
  };
}

/** Runs the CDK CLI of the app in `cwd` (its own node_modules/aws-cdk). */
function run(args: string[], env: NodeJS.ProcessEnv, log: (line: string) => void, cwd = root): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [join(cwd, 'node_modules', 'aws-cdk', 'bin', 'cdk'), ...args], { cwd, env });
    const forward = (chunk: Buffer) => {
      for (const line of chunk.toString().split('\n')) if (line.trim()) log(line);
    };
    child.stdout.on('data', forward);
    child.stderr.on('data', forward);
    child.on('error', reject);
    child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`cdk ${args[0]} exited with ${code}`))));
  });
}

async function stackOutputs(cloudformation: CloudFormationClient, name: string): Promise<Record<string, string> | undefined> {
  try {
    const { Stacks = [] } = await cloudformation.send(new DescribeStacksCommand({ StackName: name }));
    const stack = Stacks[0];
    if (!stack || !/_COMPLETE$/.test(stack.StackStatus ?? '') || /DELETE|ROLLBACK/.test(stack.StackStatus ?? '')) return undefined;
    return Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? '']));
  } catch {
    return undefined;
  }
}

/** The API's URL on the emulator: MiniStack serves `/_aws/execute-api/<id>`, LocalStack a host name. */
async function findApiUrl(endpoint: string, apiId: string): Promise<string> {
  const candidates = [
    `${endpoint}/_aws/execute-api/${apiId}`,
    `http://${apiId}.execute-api.localhost.localstack.cloud:${new URL(endpoint).port || 4566}`,
  ];
  const deadline = Date.now() + 60_000;
  for (;;) {
    for (const url of candidates) {
      try {
        const response = await fetch(`${url}/v1/openapi.json`, { signal: AbortSignal.timeout(10_000) });
        if (response.ok) return url;
      } catch {
        /* not this form, or not up yet */
      }
    }
    if (Date.now() > deadline) throw new Error(`the HTTP API ${apiId} did not answer on ${candidates.join(' or ')}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/**
 * Emulator gaps fixed after deploy (docs/emulators.md): MiniStack's CloudFormation drops
 * TimeToLiveSpecification, so TTL is set through the API. Harmless where the template worked.
 */
async function applyEmulatorFixups(endpoint: string, outputs: Record<string, string>): Promise<void> {
  const dynamodb = new DynamoDBClient({ endpoint, region, credentials });
  try {
    if (outputs.QueueTable) {
      await dynamodb
        .send(
          new UpdateTimeToLiveCommand({ TableName: outputs.QueueTable, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } }),
        )
        .catch((error: Error) => {
          if (!/already enabled|TimeToLive is already/i.test(error.message)) throw error;
        });
    }
  } finally {
    dynamodb.destroy();
  }
}

/**
 * Deploys `stack` of the CDK app in `cwd` to the emulator with that app's own CDK CLI
 * (bootstrapping the emulator first if it never was), and returns the stack's outputs.
 */
export async function deployCdkApp(options: {
  readonly endpoint: string;
  readonly stack: string;
  /** The app's folder (its cdk.json and node_modules). @default this repository */
  readonly cwd?: string;
  readonly context?: readonly string[];
  readonly cdkHome?: string;
  readonly log: (line: string) => void;
}): Promise<Record<string, string>> {
  const cwd = options.cwd ?? root;
  const env = { ...cdkEnvironment(options.endpoint), ...(options.cdkHome ? { CDK_HOME: options.cdkHome } : {}) };
  const cloudformation = new CloudFormationClient({ endpoint: options.endpoint, region, credentials });
  try {
    if (!(await stackOutputs(cloudformation, 'CDKToolkit'))) {
      options.log('cdk bootstrap (first deploy to this emulator)');
      await run(['bootstrap', `aws://000000000000/${region}`, '--progress', 'events'], env, options.log, cwd);
    }
    const context = (options.context ?? []).flatMap((c) => ['-c', c]);
    await run(['deploy', options.stack, '--require-approval', 'never', ...context, '--progress', 'events'], env, options.log, cwd);
    const outputs = await stackOutputs(cloudformation, options.stack);
    if (!outputs) throw new Error(`stack ${options.stack} is not deployed`);
    return outputs;
  } finally {
    cloudformation.destroy();
  }
}

export async function deployLocal(endpoint: string, log: (line: string) => void = (l) => console.log(l)): Promise<LocalStack> {
  // The constructs deploy the prebuilt handler bundles: build them from the sources being deployed.
  await buildHandlers();
  const cloudformation = new CloudFormationClient({ endpoint, region, credentials });
  const hash = sourceHash();
  let outputs = await stackOutputs(cloudformation, STACK_NAME);
  cloudformation.destroy();
  let deployed = false;
  if (outputs?.SourceHash === hash) {
    log(`the app is deployed and current (source ${hash}): skipping cdk deploy`);
  } else {
    log(`cdk deploy ${STACK_NAME} (source ${hash})`);
    outputs = await deployCdkApp({ endpoint, stack: STACK_NAME, context: ['local=true', `sourceHash=${hash}`], log });
    deployed = true;
  }
  if (!outputs) throw new Error(`stack ${STACK_NAME} is not deployed`);
  await applyEmulatorFixups(endpoint, outputs);
  const apiId = Object.entries(outputs).find(([key]) => /ApiId/.test(key))?.[1];
  if (!apiId) throw new Error(`stack ${STACK_NAME} has no ApiId output`);
  return { apiUrl: await findApiUrl(endpoint, apiId), outputs, deployed };
}
