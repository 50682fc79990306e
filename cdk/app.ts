import { App } from 'aws-cdk-lib';
import { ConcordExampleStack } from './stacks/example-stack';

const app = new App();
new ConcordExampleStack(app, 'ConcordExample');
