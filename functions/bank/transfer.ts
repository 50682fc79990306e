import { defineTransaction, type RetryPolicy, type TransactionDefinition, TxMode } from 'concord-aws/tx';

/**
 * Transfer definitions: one debit leg and `legs - 1` credit legs (the benchmark's 3 and 5
 * participants split the amount over several credits). Participant names are the leg roles.
 */
export function transferDefinition(
  mode: TxMode,
  options: { legs?: number; timeoutSeconds?: number; completionRetry?: RetryPolicy; name?: string } = {},
): TransactionDefinition {
  const legs = options.legs ?? 2;
  const names = ['debit', ...(legs === 2 ? ['credit'] : Array.from({ length: legs - 1 }, (_, i) => `credit-${i + 1}`))];
  return defineTransaction({
    name: options.name ?? `transfer-${mode}${legs === 2 ? '' : `-${legs}`}`,
    mode,
    participants: names.map((name) => ({
      name,
      timeoutSeconds: options.timeoutSeconds ?? 20,
      ...(options.completionRetry ? { completionRetry: options.completionRetry } : {}),
    })),
  });
}

/**
 * The transfer types the example app deploys and runs: one two-leg transfer per mode. The stack,
 * the API, the participant and sweeper Lambdas all take this list, so a type added here is
 * deployed, started, played and recovered alike.
 */
export const TRANSFER_DEFINITIONS: readonly TransactionDefinition[] = Object.values(TxMode).map((mode) => transferDefinition(mode));

/** The example app's banks: one participant service each (the stack, the API and its tests take this list). */
export const BANK_NAMES = ['bank-a', 'bank-b'] as const;
export type BankName = (typeof BANK_NAMES)[number];
