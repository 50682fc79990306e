/**
 * Fault injection for the AWS SDK, as middlewares placed right after the retry middleware, so that
 * each attempt the SDK makes passes through them:
 *
 * - LostResponses: the request reaches the service, then its response is thrown away with a
 *   retryable network error, so the SDK retries a request that already applied (the ambiguous
 *   write of Q3).
 * - FailFirstAttempt: the first matching request fails before it is sent, with a retryable error.
 * - ConflictOnce: the first matching request fails before it is sent with a
 *   TransactionConflictException, which the SDK does not retry: the caller's own retry runs.
 * - ThrottledRequests: matching requests fail before they are sent with a throttling error, which
 *   the SDK retries with backoff (and gives up on after its attempts, as under sustained throttling).
 * - PartlyUnprocessed, SlowRequests, DeniedRequests: see each.
 *
 * Install them on the client you hand Concord: `new LostResponses(dynamodb, { operation: 'PutItem' })`.
 */
import { COST_METER_MIDDLEWARE } from '../adapters/cost-meter.js';

interface Stack {
  addRelativeTo(middleware: never, options: never): void;
  remove(name: string): boolean;
}

type Input = Record<string, unknown>;
type Next = (args: { input: Input }) => Promise<unknown>;

/** Which requests a fault applies to. */
export interface FaultPlan {
  /** e.g. 'PutItem', 'TransactWriteItems', 'DeleteItem'. */
  readonly operation: string;
  /** How many matching requests to fail. @default 1 */
  readonly times?: number;
  /** Only requests whose input passes this filter. */
  readonly when?: (input: Input) => boolean;
}

const retryableNetworkError = (message: string) => Object.assign(new Error(message), { code: 'ECONNRESET', name: 'TimeoutError' });

let installed = 0;

/** Installs itself on construction; `remove()` takes it off the client again. */
abstract class InjectedFault {
  injected = 0;
  private readonly name = `concordFault${++installed}`;

  constructor(
    private readonly client: { middlewareStack: Stack },
    private readonly plan: FaultPlan,
    /** The middleware this one sits right inside of. */
    anchor = 'retryMiddleware',
  ) {
    const middleware =
      (next: Next, context: { commandName?: string }) =>
      (args: { input: Input }): Promise<unknown> => {
        const operation = (context.commandName ?? '').replace(/Command$/, '');
        return operation === this.plan.operation ? this.intercept(args, next) : next(args);
      };
    (client.middlewareStack.addRelativeTo as (m: unknown, o: unknown) => void).call(client.middlewareStack, middleware, {
      name: this.name,
      relation: 'after',
      toMiddleware: anchor,
    });
  }

  /** Counts the injection and returns true when this request is one to fail. */
  protected claim(input: Input): boolean {
    if (this.injected >= (this.plan.times ?? 1) || !(this.plan.when?.(input) ?? true)) return false;
    this.injected++;
    return true;
  }

  /** Runs for every request of the plan's operation. */
  protected abstract intercept(args: { input: Input }, next: Next): Promise<unknown>;

  remove(): void {
    this.client.middlewareStack.remove(this.name);
  }
}

export class LostResponses extends InjectedFault {
  constructor(
    client: { middlewareStack: Stack },
    plan: FaultPlan,
    /** Runs after the write applied, before its response is lost (other clients act meanwhile). */
    private readonly meanwhile: () => Promise<void> = async () => undefined,
  ) {
    super(client, plan);
  }

  // Between the retry middleware and the cost meter: the meter bills the applied attempt, then
  // the response is lost on its way back to the retry loop.
  protected async intercept(args: { input: Input }, next: Next): Promise<unknown> {
    const result = await next(args);
    if (!this.claim(args.input)) return result;
    await this.meanwhile();
    throw retryableNetworkError('socket hang up (response lost by fault injection)');
  }
}

/**
 * Runs `meanwhile` (which can let time pass and other clients act), then fails the first matching
 * request before it is sent. The SDK retries: the retry is the only attempt that reaches the
 * service, but `$metadata.attempts` says 2.
 */
export class FailFirstAttempt extends InjectedFault {
  constructor(
    client: { middlewareStack: Stack },
    operation: string,
    private readonly meanwhile: () => Promise<void>,
  ) {
    super(client, { operation });
  }

  protected async intercept(args: { input: Input }, next: Next): Promise<unknown> {
    if (!this.claim(args.input)) return next(args);
    await this.meanwhile();
    throw retryableNetworkError('connection reset before the request was sent (fault injection)');
  }
}

/** What DynamoDB answers a single-item write that collides with a transaction in progress on the item. */
export class ConflictOnce extends InjectedFault {
  /** The inputs of the matching requests that were sent after the injected conflict. */
  readonly sentAfterConflict: Input[] = [];

  protected async intercept(args: { input: Input }, next: Next): Promise<unknown> {
    if (this.claim(args.input)) {
      throw Object.assign(new Error('Transaction is ongoing for the item (fault injection)'), {
        name: 'TransactionConflictException',
        $fault: 'client',
        $metadata: { httpStatusCode: 400, attempts: 1 },
      });
    }
    if (this.injected > 0) this.sentAfterConflict.push(args.input);
    return next(args);
  }
}

/**
 * What DynamoDB does to a BatchWriteItem under throttling: it applies part of the batch and returns
 * the rest as UnprocessedItems, any subset of it. Here the first `count` requests of the first
 * matching BatchWriteItem are held back (never sent) and returned as unprocessed.
 */
export class PartlyUnprocessed extends InjectedFault {
  constructor(
    client: { middlewareStack: Stack },
    private readonly count: number,
  ) {
    // Inside the cost meter, as the service is: the meter sees the whole batch go out and the
    // unprocessed items come back.
    super(client, { operation: 'BatchWriteItem' }, COST_METER_MIDDLEWARE);
  }

  protected async intercept(args: { input: Input }, next: Next): Promise<unknown> {
    if (!this.claim(args.input)) return next(args);
    const requestItems = args.input.RequestItems as Record<string, unknown[]>;
    const [table, requests] = Object.entries(requestItems)[0] as [string, unknown[]];
    const heldBack = requests.slice(0, this.count);
    const kept = requests.slice(this.count);
    const result = (await next({ ...args, input: { ...args.input, RequestItems: { [table]: kept } } })) as { output: Input };
    return { ...result, output: { ...result.output, UnprocessedItems: { [table]: heldBack } } };
  }
}

/** Every matching request takes `delayMs` longer (a slow or throttled service). */
export class SlowRequests extends InjectedFault {
  constructor(
    client: { middlewareStack: Stack },
    plan: FaultPlan,
    private readonly delayMs: number,
  ) {
    super(client, { times: Number.POSITIVE_INFINITY, ...plan });
  }

  protected async intercept(args: { input: Input }, next: Next): Promise<unknown> {
    if (this.claim(args.input)) await new Promise((resolve) => setTimeout(resolve, this.delayMs));
    return next(args);
  }
}

/** Matching requests fail before they are sent, with an error the SDK does not retry (access denied). */
export class DeniedRequests extends InjectedFault {
  constructor(client: { middlewareStack: Stack }, plan: FaultPlan) {
    super(client, { times: Number.POSITIVE_INFINITY, ...plan });
  }

  protected async intercept(args: { input: Input }, next: Next): Promise<unknown> {
    if (!this.claim(args.input)) return next(args);
    throw Object.assign(new Error('User is not authorized to perform this action (fault injection)'), {
      name: 'AccessDeniedException',
      $fault: 'client',
      $metadata: { httpStatusCode: 400, attempts: 1 },
    });
  }
}

/**
 * Matching requests fail before they are sent with ProvisionedThroughputExceededException, which
 * the SDK retries with backoff: `times` of them in a row (default 1) is a burst the SDK rides
 * out; more than its attempts is sustained throttling that reaches the caller.
 */
export class ThrottledRequests extends InjectedFault {
  protected async intercept(args: { input: Input }, next: Next): Promise<unknown> {
    if (!this.claim(args.input)) return next(args);
    throw Object.assign(new Error('The level of configured provisioned throughput for the table was exceeded (fault injection)'), {
      name: 'ProvisionedThroughputExceededException',
      $fault: 'client',
      $retryable: { throttling: true },
      $metadata: { httpStatusCode: 400, attempts: 1 },
    });
  }
}
