/** Time and entropy are passed into Concord, never read from globals in the core. */
export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
}

export interface Entropy {
  /** `n` cryptographically random bytes. */
  bytes(n: number): Uint8Array;
  /** A uniformly distributed float in [0, 1). */
  unit(): number;
}
