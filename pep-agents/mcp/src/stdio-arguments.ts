/** `stdio --server <name>` (stdio mode), or undefined for the HTTP gateway (no arguments). */
export function readStdioArguments(argv: readonly string[]): { readonly server: string } | undefined {
  if (argv.length === 0) return undefined;
  const [mode, ...rest] = argv;
  if (mode !== 'stdio') throw new Error(`unknown command "${mode}": run with no arguments (HTTP gateway) or "stdio --server <name>"`);
  let server: string | undefined;
  for (let index = 0; index < rest.length; index += 1) {
    const arg = rest[index]!;
    if (arg === '--server') server = rest[++index];
    else if (arg.startsWith('--server=')) server = arg.slice('--server='.length);
    else throw new Error(`unknown option "${arg}" (stdio takes --server <name>)`);
  }
  if (!server) throw new Error('stdio needs --server <name>: the server from the servers file the agent reaches');
  return { server };
}
