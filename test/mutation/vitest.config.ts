import { defineConfig } from 'vitest/config';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * The unit tier as Stryker runs it (npm run test:mutation, docs/testing.md): every unit test but
 * the CDK template tests (test/unit/cdk), whose asset bundling cannot run inside Stryker's worker
 * processes and which exercise no module Stryker mutates. No global setup: the handler bundles
 * are only for those templates.
 */
export default defineConfig({
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    include: ['test/unit/**/*.test.ts'],
    exclude: ['test/unit/cdk/**', '**/node_modules/**'],
    testTimeout: 30_000,
    environment: 'node',
  },
});
