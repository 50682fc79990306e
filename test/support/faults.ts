/**
 * Fault injection for the AWS SDK: lets a chosen request reach the service, then throws away its
 * response and fails the attempt with a retryable network error, so the SDK retries a request that
 * already applied. This is the ambiguous write of Q3.
 */
interface Stack {
  addRelativeTo(middleware: never, options: never): void;
  remove(name: string): boolean;
}

export interface LostResponsePlan {
  /** e.g. 'PutItem', 'TransactWriteItems', 'DeleteItem'. */
  readonly operation: string;
  /** Lose the response of this many matching requests (first attempts only). @default 1 */
  readonly times?: number;
  /** Only requests whose input passes this filter. */
  readonly when?: (input: Record<string, unknown>) => boolean;
}

export class LostResponses {
  injected = 0;
  private readonly name = `lostResponses-${Math.random().toString(36).slice(2)}`;

  constructor(
    private readonly client: { middlewareStack: Stack },
    private readonly plan: LostResponsePlan,
  ) {
    const middleware =
      (next: (args: { input: Record<string, unknown> }) => Promise<unknown>, context: { commandName?: string }) =>
      async (args: { input: Record<string, unknown> }) => {
        const result = await next(args);
        const operation = (context.commandName ?? '').replace(/Command$/, '');
        if (operation === this.plan.operation && this.injected < (this.plan.times ?? 1) && (this.plan.when?.(args.input) ?? true)) {
          this.injected++;
          throw Object.assign(new Error('socket hang up (response lost by fault injection)'), { code: 'ECONNRESET', name: 'TimeoutError' });
        }
        return result;
      };
    // Between the retry middleware and the cost meter: the meter bills the applied attempt, then
    // the response is lost on its way back to the retry loop.
    (client.middlewareStack.addRelativeTo as (m: unknown, o: unknown) => void).call(client.middlewareStack, middleware, {
      name: this.name,
      relation: 'after',
      toMiddleware: 'retryMiddleware',
    });
  }

  remove(): void {
    this.client.middlewareStack.remove(this.name);
  }
}

/**
 * Fails the first matching request *before* it is sent, with a retryable error, after running
 * `meanwhile` (which can let time pass and other clients act). The SDK then retries: the retry is
 * the only attempt that reaches the service, but `$metadata.attempts` says 2.
 */
export class FailFirstAttempt {
  injected = 0;
  private readonly name = `failFirst-${Math.random().toString(36).slice(2)}`;

  constructor(
    private readonly client: { middlewareStack: Stack },
    operation: string,
    meanwhile: () => Promise<void>,
  ) {
    const middleware = (next: (args: unknown) => Promise<unknown>, context: { commandName?: string }) => async (args: unknown) => {
      if ((context.commandName ?? '').replace(/Command$/, '') === operation && this.injected === 0) {
        this.injected++;
        await meanwhile();
        throw Object.assign(new Error('connection reset before the request was sent (fault injection)'), {
          code: 'ECONNRESET',
          name: 'TimeoutError',
        });
      }
      return next(args);
    };
    (client.middlewareStack.addRelativeTo as (m: unknown, o: unknown) => void).call(client.middlewareStack, middleware, {
      name: this.name,
      relation: 'after',
      toMiddleware: 'retryMiddleware',
    });
  }

  remove(): void {
    this.client.middlewareStack.remove(this.name);
  }
}
