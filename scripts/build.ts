/**
 * `npm run build` (and `npm pack`, through prepack): the package as a user installs it, in dist/.
 *
 *   dist/functions, dist/cdk   the library's ESM JavaScript and .d.ts (tsc -p tsconfig.build.json)
 *   dist/handlers/<name>/      each Lambda handler the constructs deploy, bundled with the AWS SDK
 *                              (esbuild), so that a user's `cdk synth` needs neither our sources
 *                              nor esbuild (cdk/constructs/handler-code.ts)
 *   dist/console/              the operators' console (console/: Preact, bundled for the browser),
 *                              also copied to dist/handlers/api/console/ for the API to serve
 *
 *   tsx --conditions=source scripts/build.ts [--handlers-only]
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { HANDLER_ENTRIES, type HandlerName, packageRoot } from '../cdk/constructs/handler-code.js';

const root = packageRoot();
const say = (line: string) => process.stderr.write(`[build] ${line}\n`);

/** True when every handler bundle exists (the CDK template tests need them, not their freshness). */
export function handlersBuilt(): boolean {
  return Object.keys(HANDLER_ENTRIES).every((name) => existsSync(join(root, 'dist', 'handlers', name, 'index.js')));
}

export async function buildHandlers(names: readonly HandlerName[] = Object.keys(HANDLER_ENTRIES) as HandlerName[]): Promise<void> {
  await Promise.all(
    names.map(async (name) => {
      const outdir = join(root, 'dist', 'handlers', name);
      rmSync(outdir, { recursive: true, force: true });
      mkdirSync(outdir, { recursive: true });
      await build({
        entryPoints: [join(root, HANDLER_ENTRIES[name])],
        outfile: join(outdir, 'index.js'),
        bundle: true,
        platform: 'node',
        // Lambda runs nodejs24.x; the local emulator runs the machine's Node 20 with the same file.
        target: 'node20',
        format: 'cjs',
        // Concord imports itself through its entry points: bundle the sources, not a stale dist.
        conditions: ['source'],
        mainFields: ['module', 'main'],
        minify: true,
        sourcemap: true,
        sourcesContent: false,
        logLevel: 'warning',
        legalComments: 'none',
      });
      // The asset folder is deployed on its own: say what the bundle is, whatever encloses it.
      writeFileSync(join(outdir, 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
      // The API serves the console from the files beside its bundle (functions/api/lambda.ts).
      const consoleDir = join(root, 'dist', 'console');
      if (name === 'api' && existsSync(consoleDir)) cpSync(consoleDir, join(outdir, 'console'), { recursive: true });
    }),
  );
}

/** The console for the browser: one script, one style sheet, the page; nothing fetched at run time. */
export async function buildConsole(): Promise<void> {
  const outdir = join(root, 'dist', 'console');
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  await build({
    entryPoints: [join(root, 'console', 'src', 'main.tsx')],
    outfile: join(outdir, 'console.js'),
    bundle: true,
    platform: 'browser',
    format: 'esm',
    target: ['chrome120', 'firefox120', 'safari17'],
    tsconfig: join(root, 'console', 'tsconfig.json'),
    conditions: ['source'],
    minify: true,
    sourcemap: true,
    legalComments: 'none',
    logLevel: 'warning',
  });
  for (const file of ['index.html', 'console.css']) copyFileSync(join(root, 'console', file), join(outdir, file));
}

async function main(): Promise<void> {
  const started = Date.now();
  if (!process.argv.includes('--handlers-only')) {
    rmSync(join(root, 'dist'), { recursive: true, force: true });
    say('library: tsc -p tsconfig.build.json');
    execFileSync(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], {
      cwd: root,
      stdio: 'inherit',
    });
  }
  say('console: dist/console');
  await buildConsole();
  say(`handlers: ${Object.keys(HANDLER_ENTRIES).join(', ')}`);
  await buildHandlers();
  say(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
