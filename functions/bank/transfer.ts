import { defineTransaction, type RetryPolicy, type TransactionDefinition, TxEngine, TxMode } from 'concord-aws/tx';

/**
 * Transfer definitions: one debit leg and `legs - 1` credit legs (the benchmark's 3 and 5
 * participants split the amount over several credits). Participant names are the leg roles.
 * Names: `transfer-<mode>[-<legs>][-express]`.
 */
export function transferDefinition(
  mode: TxMode,
  options: {
    legs?: number;
    engine?: TxEngine;
    timeoutSeconds?: number;
    completionRetry?: RetryPolicy;
    transportRetry?: RetryPolicy;
    name?: string;
  } = {},
): TransactionDefinition {
  const legs = options.legs ?? 2;
  const engine = options.engine ?? TxEngine.Standard;
  const names = ['debit', ...(legs === 2 ? ['credit'] : Array.from({ length: legs - 1 }, (_, i) => `credit-${i + 1}`))];
  return defineTransaction({
    name: options.name ?? `transfer-${mode}${legs === 2 ? '' : `-${legs}`}${engine === TxEngine.Express ? '-express' : ''}`,
    mode,
    engine,
    participants: names.map((name) => ({
      name,
      // Express: each phase is one synchronous call, and the whole run must fit in 5 minutes.
      timeoutSeconds: options.timeoutSeconds ?? (engine === TxEngine.Express ? 10 : 20),
      ...(options.completionRetry ? { completionRetry: options.completionRetry } : {}),
      ...(options.transportRetry ? { transportRetry: options.transportRetry } : {}),
    })),
  });
}

/**
 * The transfer types the example app deploys and runs: one two-leg transfer per mode and engine
 * (`transfer-2pc`, `transfer-saga`, `transfer-2pc-express`, `transfer-saga-express`). The stack,
 * the API, the participant and sweeper Lambdas all take this list, so a type added here is
 * deployed, started, played and recovered alike.
 */
export const TRANSFER_DEFINITIONS: readonly TransactionDefinition[] = Object.values(TxEngine).flatMap((engine) =>
  Object.values(TxMode).map((mode) => transferDefinition(mode, { engine })),
);

/** The example app's banks: one participant service each (the stack, the API and its tests take this list). */
export const BANK_NAMES = ['bank-a', 'bank-b'] as const;
export type BankName = (typeof BANK_NAMES)[number];
