import { buildHandlers, handlersBuilt } from '../../scripts/build.js';

/** Builds the Lambda handler bundles once if they are missing (`npm run build` makes them too). */
export default async function setup(): Promise<void> {
  if (!handlersBuilt()) await buildHandlers();
}
