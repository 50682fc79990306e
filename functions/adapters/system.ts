import { randomBytes, randomInt } from 'node:crypto';
import type { Clock, Entropy } from '../core/clock.js';

export const systemClock: Clock = { now: () => Date.now() };

export const cryptoEntropy: Entropy = {
  bytes: (n) => new Uint8Array(randomBytes(n)),
  unit: () => randomInt(0, 2 ** 48 - 1) / 2 ** 48,
};

export const realSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));
