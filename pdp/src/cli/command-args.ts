import { parseArgs as parseNodeArgs, type ParseArgsConfig } from 'node:util';

/**
 * node:util's parseArgs, except that an option taking a value accepts one that begins with a
 * dash in the next argument (`--key-thumbprint -Xy…`): base64url thumbprints, key ids and tokens
 * begin with `-` one time in 64, and node refuses those as ambiguous unless written `--opt=-Xy…`.
 * A next argument that is itself one of the command's options is left alone, so a forgotten
 * value is still refused.
 */
export function parseArgs<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseNodeArgs<T>> {
  const args = config.args;
  if (!args || !config.options) return parseNodeArgs(config);
  const options = config.options;
  const known = new Set<string>();
  for (const [name, option] of Object.entries(options)) {
    known.add(`--${name}`);
    if (option.short) known.add(`-${option.short}`);
  }
  const joined: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    if (arg === '--') {
      joined.push(...args.slice(index));
      break;
    }
    const next = args[index + 1];
    const takesValue = arg.startsWith('--') && !arg.includes('=') && options[arg.slice(2)]?.type === 'string';
    if (takesValue && next !== undefined && next.startsWith('-') && next !== '-' && !known.has(next.split('=')[0]!)) {
      joined.push(`${arg}=${next}`);
      index += 1;
      continue;
    }
    joined.push(arg);
  }
  // The same options and flags: only how values are spelled in args changed.
  return parseNodeArgs({ ...config, args: joined } as T);
}
