import { App } from 'aws-cdk-lib';
import { OrdersStack } from './orders-stack.js';

const app = new App();
new OrdersStack(app, 'ConcordOrders');
