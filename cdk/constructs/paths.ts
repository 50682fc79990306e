import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const repositoryRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Absolute path of a file under functions/ (Lambda entry points). */
export function functionsPath(relative: string): string {
  return join(repositoryRoot, 'functions', relative);
}
