import { RemovalPolicy, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { DurableQueue } from '../constructs';

/** The example app: grows into the two-bank system (queues, coordinator, HTTP API). */
export class ConcordExampleStack extends Stack {
  public readonly queue: DurableQueue;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);
    this.queue = new DurableQueue(this, 'Queue', { removalPolicy: RemovalPolicy.DESTROY });
  }
}
