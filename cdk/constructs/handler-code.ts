/**
 * The Lambda code the constructs deploy. Concord's handlers are bundled when the package is built
 * (`npm run build`, scripts/build.ts) into dist/handlers/<name>/, so that a user's `cdk synth`
 * needs neither Concord's TypeScript sources nor esbuild: the construct points at a folder.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** Each prebuilt handler and the source file it is bundled from (relative to the package root). */
export const HANDLER_ENTRIES = {
  /** The HTTP API (ConcordApi). */
  api: 'functions/api/lambda.ts',
  /** Queue depth metrics (DurableQueue.watch). */
  'queue-metrics': 'functions/handlers/queue-metrics.ts',
  /** Recovery of stuck transactions (TransactionCoordinator). */
  sweeper: 'functions/handlers/sweeper.ts',
  /** The example app's bank participants and queue consumer (not part of the published package). */
  'bank-participant': 'functions/handlers/participant.ts',
  'example-consumer': 'functions/handlers/queue-consumer.ts',
} as const;
export type HandlerName = keyof typeof HANDLER_ENTRIES;

/** The folder of this package (the one whose package.json is named concord-aws), from source or from dist. */
export function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }).name === 'concord-aws') return dir;
    const parent = dirname(dir);
    if (parent === dir) throw new Error('concord-aws: cannot find the package root (package.json named concord-aws)');
    dir = parent;
  }
}

/** The prebuilt bundle's folder; throws naming the build step when it is missing. */
export function handlerAssetPath(name: HandlerName): string {
  const folder = join(packageRoot(), 'dist', 'handlers', name);
  if (!existsSync(join(folder, 'index.js'))) {
    throw new Error(`concord-aws: the Lambda bundle ${JSON.stringify(name)} is missing at ${folder}; run \`npm run build\` in the package`);
  }
  return folder;
}

export function handlerCode(name: HandlerName): lambda.Code {
  return lambda.Code.fromAsset(handlerAssetPath(name));
}
