#!/usr/bin/env node
// Runs the CLI from the package's build (dist/). Under `node --conditions=source --import tsx`
// (the test runner, development) "#cli" is the TypeScript source instead: package.json "imports".
const { runCli } = await import('#cli').catch(notBuilt);
try {
  process.exitCode = await runCli(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`portcullis: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}

function notBuilt(error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('/dist/')) throw error;
  process.stderr.write(`portcullis: the package is not built (${error.message}); run npm run build\n`);
  process.exit(1);
}
