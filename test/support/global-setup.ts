import type { TestProject } from 'vitest/node';
import { type EmulatorKind, ensureEmulator } from '../../scripts/emulator.js';

declare module 'vitest' {
  export interface ProvidedContext {
    endpoint: string;
    emulator: string;
  }
}

/** Starts (or finds) the emulator once per run; CONCORD_EMULATOR=moto selects moto. */
export default async function setup(project: TestProject) {
  const kind = (process.env.CONCORD_EMULATOR ?? 'ministack') as EmulatorKind;
  const emulator = await ensureEmulator(kind);
  project.provide('endpoint', emulator.endpoint);
  project.provide('emulator', emulator.kind === 'external' ? `external (${emulator.endpoint})` : emulator.kind);
  return async () => {
    await emulator.stop();
  };
}
