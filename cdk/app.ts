import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ConcordExampleStack } from './stacks/example-stack.js';
import { acknowledgeReviewedFindings } from './stacks/nag-acknowledgements.js';

const app = new App();
// `-c local=true` (npm start): the emulator checks no SigV4 signatures; AWS deployments use IAM.
const local = String(app.node.tryGetContext('local')) === 'true';
const stack = new ConcordExampleStack(app, 'ConcordExample', {
  authorization: local ? { kind: 'none' } : { kind: 'iam' },
  sourceHash: app.node.tryGetContext('sourceHash') ?? 'unknown',
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
acknowledgeReviewedFindings(stack, { localEmulator: local });
