/** Where this package's built console is (apart from assets.ts: the Lambda bundle, CommonJS, has no import.meta). */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CONSOLE_PAGE, CONSOLE_SCRIPT } from './assets.js';

/**
 * dist/console of this package, from the sources (functions/console/) or from the build
 * (dist/functions/console/); undefined when the package was not built.
 */
export function packagedConsoleDir(): string | undefined {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [join(here, '..', '..', 'dist', 'console'), join(here, '..', '..', 'console')];
  // The bundle, not console/'s unbuilt page: console/ in the repository has index.html too.
  return candidates.find((dir) => existsSync(join(dir, CONSOLE_PAGE)) && existsSync(join(dir, CONSOLE_SCRIPT)));
}
