#!/usr/bin/env node
// Runs the MCP gateway from the package's build (dist/): with no arguments the Streamable HTTP
// gateway, with `stdio --server <name>` the gateway a local agent spawns. Under
// `node --conditions=source --import tsx` (the test runner, development) "#main" is the source.
const { runFromEnvironment } = await import('#main').catch(notBuilt);
try {
  await runFromEnvironment(process.env, process.argv.slice(2));
} catch (error) {
  process.stderr.write(`portcullis-pep-mcp: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}

function notBuilt(error) {
  if (error?.code !== 'ERR_MODULE_NOT_FOUND' || !String(error.message).includes('/dist/')) throw error;
  process.stderr.write(`portcullis-pep-mcp: the package is not built (${error.message}); run npm run build\n`);
  process.exit(1);
}
