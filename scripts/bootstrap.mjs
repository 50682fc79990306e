#!/usr/bin/env node
// Installs what `npm test` and `npm start` need on a fresh clone: the npm packages (npm ci) and the
// emulators and the contract test's Schemathesis (a project-local Python venv, pinned in
// requirements-emulator.txt and requirements-contract.txt). Plain Node, no
// dependencies, so it runs before node_modules exists. Quick when everything is in place.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const run = (cmd, args, opts = {}) => execFileSync(cmd, args, { cwd: root, stdio: 'inherit', ...opts });
const log = (msg) => process.stderr.write(`[bootstrap] ${msg}\n`);

function npmPackages() {
  const marker = join(root, 'node_modules', '.package-lock.json');
  const lock = join(root, 'package-lock.json');
  if (existsSync(marker) && statSync(marker).mtimeMs >= statSync(lock).mtimeMs) return;
  log('installing npm packages (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund']);
}

/** Every pip requirements file the venv holds (the stamp covers them all: any change reinstalls). */
const REQUIREMENTS = ['requirements-emulator.txt', 'requirements-contract.txt'];

function emulators() {
  const hash = createHash('sha256');
  for (const file of REQUIREMENTS) hash.update(readFileSync(join(root, file)));
  const wanted = hash.digest('hex');
  const venv = join(root, '.venv');
  const stamp = join(venv, '.concord-requirements');
  if (existsSync(stamp) && readFileSync(stamp, 'utf8') === wanted) return;
  const python = process.env.PYTHON ?? 'python3';
  log(`installing the emulators and Schemathesis into .venv (${python} -m venv, pip install -r ${REQUIREMENTS.join(' -r ')})`);
  if (!existsSync(join(venv, 'bin', 'python'))) run(python, ['-m', 'venv', venv]);
  run(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', ...REQUIREMENTS.flatMap((file) => ['-r', file])]);
  writeFileSync(stamp, wanted);
}

const only = process.argv[2];
if (!only || only === 'npm') npmPackages();
if (!only || only === 'emulators') emulators();
