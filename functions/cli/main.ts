#!/usr/bin/env node
/**
 * The `concord` bin (package.json "bin"): dist/functions/cli/main.js in the package; in the
 * repository `npm run concord -- <args>` runs this file with tsx.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runCli } from './program.js';

/** The version in the package's own package.json: two folders up in the repository, three in dist/. */
function packageVersion(): string | undefined {
  for (let dir = dirname(fileURLToPath(import.meta.url)); dir !== dirname(dir); dir = dirname(dir)) {
    const manifest = join(dir, 'package.json');
    if (!existsSync(manifest)) continue;
    const { name, version } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
    if (name === 'concord-aws') return version;
  }
  return undefined;
}

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const version = packageVersion();
process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  stdin: process.stdin,
  env: process.env,
  now: () => Date.now(),
  ...(version ? { version } : {}),
});
