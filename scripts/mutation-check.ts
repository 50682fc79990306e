/**
 * The mutation score of the invariant modules may not drop (docs/testing.md). Part of `npm test`.
 *
 *   tsx scripts/mutation-check.ts            check: fails when a module scores below its baseline
 *   tsx scripts/mutation-check.ts --update   store the scores just measured as the new baseline
 *   tsx scripts/mutation-check.ts --update --from reports/mutation/mutation.json reports/stryker-incremental.json
 *                                            store those of a whole run already made
 *
 * Stryker runs over the invariant modules only, in incremental mode against the committed
 * incremental report (test/mutation/stryker-incremental.json, a copy is used so the check leaves
 * the tree as it was): a mutant is run again only when its module's code changed or the tests
 * that covered or killed it changed (edited, removed, new). On an unchanged tree that is the dry
 * run of the unit tier and nothing else; a change to a module re-runs the mutants it touches; a
 * removed test re-runs the mutants it killed, which then survive and lower the score.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** The modules that decide leases, failure verdicts, participant steps, elections and the decision write. */
export const INVARIANT_MODULES = [
  'functions/core/queue/delivery.ts',
  'functions/core/queue/fifo.ts',
  'functions/core/queue/judge.ts',
  'functions/core/tx/participant-state.ts',
  'functions/core/tx/election.ts',
  'functions/core/tx/asl.ts',
  'functions/adapters/dynamodb/expressions.ts',
] as const;

const BASELINE = 'test/mutation/baseline.json';
const INCREMENTAL = 'test/mutation/stryker-incremental.json';
const WORK = 'reports/mutation-check';

interface Mutant {
  readonly status: string;
}
interface Report {
  readonly files: Record<string, { readonly mutants: readonly Mutant[] }>;
}
export interface FileScore {
  readonly score: number;
  readonly killed: number;
  readonly timeout: number;
  readonly survived: number;
  readonly noCoverage: number;
  readonly ignored: number;
}

/**
 * Stryker's mutation score: detected (killed or timed out) over the valid mutants (detected,
 * survived, not covered). Ignored (static) mutants and ones that do not compile are outside it.
 */
export function scoreOf(mutants: readonly Mutant[]): FileScore {
  const count = (status: string) => mutants.filter((m) => m.status === status).length;
  const [killed, timeout, survived, noCoverage, ignored] = ['Killed', 'Timeout', 'Survived', 'NoCoverage', 'Ignored'].map(count) as [
    number,
    number,
    number,
    number,
    number,
  ];
  const valid = killed + timeout + survived + noCoverage;
  const score = valid === 0 ? 100 : Math.floor(((killed + timeout) / valid) * 10_000) / 100;
  return { score, killed, timeout, survived, noCoverage, ignored };
}

function run(): Report {
  rmSync(WORK, { recursive: true, force: true });
  mkdirSync(WORK, { recursive: true });
  const incremental = join(WORK, 'incremental.json');
  if (existsSync(INCREMENTAL)) copyFileSync(INCREMENTAL, incremental);
  const base = JSON.parse(readFileSync('stryker.config.json', 'utf8')) as Record<string, unknown>;
  const config = {
    ...base,
    mutate: [...INVARIANT_MODULES],
    reporters: ['clear-text', 'json'],
    clearTextReporter: { logTests: false, reportMutants: true, reportScoreTable: true },
    jsonReporter: { fileName: join(WORK, 'mutation.json') },
    incremental: true,
    incrementalFile: incremental,
    tempDirName: '.stryker-tmp-check',
  };
  const configFile = join(WORK, 'stryker.config.json');
  writeFileSync(configFile, JSON.stringify(config, null, 2));
  const stryker = spawnSync('npx', ['stryker', 'run', configFile], { stdio: 'inherit' });
  if (stryker.status !== 0) throw new Error(`stryker exited with ${stryker.status ?? stryker.signal}`);
  return JSON.parse(readFileSync(join(WORK, 'mutation.json'), 'utf8')) as Report;
}

/**
 * What the check needs of Stryker's incremental report: the invariant modules' mutants (with the
 * tests that covered or killed them) and the test files' sources (to see which tests changed).
 * The other modules' mutants and the survivors' free-text reasons are left out, on one line: the
 * whole report is 2.6 MB, this is well under half of it.
 */
export function incrementalToStore(text: string): string {
  const report = JSON.parse(text) as { files: Record<string, { mutants: Array<Record<string, unknown>> }> };
  const files = Object.fromEntries(
    INVARIANT_MODULES.flatMap((file) => {
      const entry = report.files[file];
      if (!entry) return [];
      return [[file, { ...entry, mutants: entry.mutants.map(({ statusReason: _reason, ...mutant }) => mutant) }]];
    }),
  );
  return `${JSON.stringify({ ...report, files })}\n`;
}

function main(): void {
  const update = process.argv.includes('--update');
  // --update --from <mutation.json> <incremental.json>: store the scores of a run already made
  // (npm run test:mutation -- --incremental), instead of running Stryker again.
  const from = process.argv.indexOf('--from');
  const [reportFile, incrementalFile] = from >= 0 ? process.argv.slice(from + 1, from + 3) : [];
  if (from >= 0 && (!reportFile || !incrementalFile)) throw new Error('--from needs a mutation.json and its incremental report');
  if (reportFile && incrementalFile) {
    mkdirSync(WORK, { recursive: true });
    copyFileSync(incrementalFile, join(WORK, 'incremental.json'));
  }
  const report = reportFile ? (JSON.parse(readFileSync(reportFile, 'utf8')) as Report) : run();
  const measured = Object.fromEntries(INVARIANT_MODULES.map((file) => [file, scoreOf(report.files[file]?.mutants ?? [])]));
  if (update) {
    writeFileSync(BASELINE, `${JSON.stringify({ files: measured }, null, 2)}\n`);
    writeFileSync(INCREMENTAL, incrementalToStore(readFileSync(join(WORK, 'incremental.json'), 'utf8')));
    console.log(`mutation baseline stored in ${BASELINE} and ${INCREMENTAL}`);
    return;
  }
  const baseline = (JSON.parse(readFileSync(BASELINE, 'utf8')) as { files: Record<string, FileScore> }).files;
  const drops: string[] = [];
  for (const file of INVARIANT_MODULES) {
    const was = baseline[file]?.score;
    const now = measured[file]?.score ?? 0;
    console.log(`${file.padEnd(46)} ${String(now).padStart(6)}%  (baseline ${was ?? 'none'}%)`);
    if (was === undefined || now < was) drops.push(`${file}: ${now}% < ${was ?? 'no baseline'}%`);
  }
  if (drops.length > 0) {
    console.error(
      `\nThe mutation score of an invariant module dropped:\n  ${drops.join('\n  ')}\n` +
        'Add the tests that kill the new survivors (reports/mutation-check/mutation.json lists them), or, for a survivor that is ' +
        'equivalent, list it in docs/testing.md and store the new scores with `npm run test:mutation:baseline`.',
    );
    process.exit(1);
  }
  console.log('mutation scores of the invariant modules: none below the baseline');
}

main();
