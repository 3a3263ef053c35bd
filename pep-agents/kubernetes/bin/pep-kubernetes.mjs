#!/usr/bin/env node
// Runs the Kubernetes PEP from the package's build (dist/). Under `node --conditions=source
// --import tsx` (the test runner, development) "#main" is the TypeScript source instead.
const { runFromEnvironment } = await import('#main').catch(notBuilt);
try {
  await runFromEnvironment(process.env);
} catch (error) {
  process.stderr.write(`portcullis-pep-kubernetes: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}

function notBuilt(error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('/dist/')) throw error;
  process.stderr.write(`portcullis-pep-kubernetes: the package is not built (${error.message}); run npm run build\n`);
  process.exit(1);
}
