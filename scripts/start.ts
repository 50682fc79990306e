/**
 * `npm start`: the local stack. For now: the emulator, and what it offers. (The deployable system
 * with the HTTP API is tracked in issue 4; this grows into deploying the CDK app to the emulator.)
 */
import { ensureEmulator } from './emulator';

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const emulator = await ensureEmulator('ministack');
console.log(`AWS emulator (${emulator.kind}) ${emulator.started ? 'started' : 'already running'}`);
console.log(`AWS_ENDPOINT_URL=${emulator.endpoint}`);
console.log('DynamoDB, SQS, S3, Step Functions, Lambda and API Gateway answer there (credentials: test/test, region us-east-1).');
console.log('Try: npm run bench:queue   (the queue benchmark against this emulator)');
console.log('Ctrl-C stops it.');
const stop = async () => {
  await emulator.stop();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
setInterval(() => {}, 1 << 30);
