/**
 * A service's process log: pino, one JSON object a line when the log does not go to a terminal
 * (what log shippers read), a readable line when it does; fields that hold secrets are replaced
 * by path wherever they appear in what is logged. The parts of the PDP never import the logger:
 * they are handed a plain `LogFunction`, which `logFunction()` makes from it.
 *
 * PORTCULLIS_LOG_FORMAT (json | pretty) overrides the choice; PORTCULLIS_LOG_LEVEL sets the level.
 */
import pino, { type DestinationStream, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { ConfigError, envReader } from '@portcullis/contract/config-values';

/** What the parts are handed: a message, and fields a JSON log keeps apart from it. */
export type LogFunction = (message: string, fields?: Readonly<Record<string, unknown>>) => void;

/** Field paths never written as they are: tokens, credentials and the headers that carry them. */
export const REDACTED_LOG_PATHS: readonly string[] = [
  'token', '*.token', 'subject_token', '*.subject_token', 'password', '*.password', 'secret', '*.secret',
  'client_secret', '*.client_secret', 'authorization', '*.authorization', 'headers.authorization',
  '*.headers.authorization', 'headers.cookie', '*.headers.cookie', 'cookie', '*.cookie',
  'mask_hash_key', '*.mask_hash_key', 'private_key', '*.private_key',
];

export interface ProcessLoggerOptions {
  /** The service, on every line. */
  readonly name: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Where lines go; standard error by default (standard output is left to commands). */
  readonly destination?: { readonly fd: number; readonly isTTY?: boolean };
}

export function createProcessLogger(options: ProcessLoggerOptions): Logger {
  const read = envReader(options.env ?? process.env);
  const fd = options.destination?.fd ?? 2;
  const isTTY = options.destination ? options.destination.isTTY === true : process.stderr.isTTY === true;
  const format = read('PORTCULLIS_LOG_FORMAT') ?? (isTTY ? 'pretty' : 'json');
  if (format !== 'json' && format !== 'pretty') throw new ConfigError('PORTCULLIS_LOG_FORMAT', `must be json or pretty, not "${format}"`);
  const level = read('PORTCULLIS_LOG_LEVEL') ?? 'info';
  if (!Object.hasOwn(pino.levels.values, level)) throw new ConfigError('PORTCULLIS_LOG_LEVEL', `must be one of ${Object.keys(pino.levels.values).join(', ')}, not "${level}"`);
  const settings = { name: options.name, level, redact: { paths: [...REDACTED_LOG_PATHS], censor: '[redacted]' } };
  // Written synchronously: the last lines before a crash or exit are the ones that matter.
  const stream: DestinationStream =
    format === 'json'
      ? pino.destination({ dest: fd, sync: true })
      : pretty({ destination: fd, sync: true, colorize: isTTY, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' });
  return pino(settings, stream);
}

/** The plain function the parts are handed, logging at `level`. */
export function logFunction(logger: Logger, level: 'info' | 'warn' | 'error' = 'info'): LogFunction {
  return (message, fields) => (fields ? logger[level]({ ...fields }, message) : logger[level](message));
}
