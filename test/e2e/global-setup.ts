import type { TestProject } from 'vitest/node';
import { ensureEmulator } from '../../scripts/emulator.js';
import { deployLocal } from '../../scripts/local-stack.js';

declare module 'vitest' {
  export interface ProvidedContext {
    endpoint: string;
    emulator: string;
    apiUrl: string;
    stackOutputs: Record<string, string>;
  }
}

/** Deploys the CDK app to the emulator (skipped when the deployed app is current) and shares its API URL. */
export default async function setup(project: TestProject) {
  const emulator = await ensureEmulator('ministack');
  const stack = await deployLocal(emulator.endpoint, (line) => process.stderr.write(`[deploy] ${line}\n`));
  project.provide('endpoint', emulator.endpoint);
  project.provide('emulator', emulator.kind);
  project.provide('apiUrl', stack.apiUrl);
  project.provide('stackOutputs', stack.outputs);
  return async () => {
    await emulator.stop();
  };
}
