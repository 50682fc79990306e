import { defineConfig } from 'vitest/config';

// The SDK warns on every process that Node 20 support ends in January 2027 (versions are locked in
// package-lock.json; Lambdas deploy on nodejs22.x). Quiet it for test output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

/**
 * unit:     no network (core, handlers with fakes, CDK templates).
 * adapters: the DynamoDB/S3 adapters against a local AWS emulator; run on MiniStack (npm run
 *           test:adapters) and again on moto (npm run test:moto) as a second implementation.
 * system:   the real Step Functions state machine, SQS and participants (npm run test:system).
 *           MiniStack only: moto 5.2.1 runs one execution per region (docs/emulators.md).
 * e2e:      the CDK app deployed to the emulator with the CDK CLI, driven through its HTTP API.
 */
export default defineConfig({
  // Concord imports itself through its package entry points; in the repository the "source"
  // condition of package.json "exports" resolves them to the TypeScript sources (as tsx and tsc do).
  resolve: { conditions: ['source'] },
  ssr: { resolve: { conditions: ['source'], externalConditions: ['source'] } },
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          // CDK synths (cdk-nag over the whole example stack) and property tests pass 5 s on a
          // 2-core machine shared with other runs; none waits on anything but the CPU.
          testTimeout: 30_000,
          // The CDK template tests synthesize constructs that point at the prebuilt handler bundles.
          globalSetup: ['test/support/handler-bundles.ts'],
          environment: 'node',
        },
      },
      {
        extends: true,
        test: {
          name: 'adapters',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 120_000,
          // One Python emulator serves every file: running files one at a time keeps timing-
          // sensitive races (lease expiry) honest on a 2-core machine.
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'system',
          include: ['test/system/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          testTimeout: 300_000,
          hookTimeout: 120_000,
          fileParallelism: false,
        },
      },
      {
        extends: true,
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/e2e/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          fileParallelism: false,
        },
      },
    ],
  },
});
