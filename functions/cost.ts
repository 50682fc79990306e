/**
 * `concord-aws/cost`: the cost meter, an AWS SDK middleware that counts every DynamoDB, SQS, S3 and
 * Step Functions call and the units AWS bills for it, and AWS's billing rules and on-demand prices
 * as functions (used by the benchmarks and the operators' tools).
 */
export { COST_METER_MIDDLEWARE, CostMeter, type CostSnapshot } from './adapters/cost-meter.js';
export {
  expressGbSeconds,
  itemSize,
  lambdaGbSeconds,
  PRICES,
  readUnits,
  sqsBilledRequests,
  TRANSACTION_MULTIPLIER,
  type UsageTotals,
  usd,
  usdPerMillion,
  writeUnits,
} from './core/cost.js';
export {
  type CostLine,
  costBreakdown,
  executionPath,
  type MessageUsageInput,
  messageUsage,
  type TransactionUsageInput,
  transactionUsage,
} from './core/cost-estimate.js';
export { type ExecutionPath, stateTransitions } from './core/tx/billing.js';
