import { loadPdpConfig } from '../config/pdp-config.ts';
import { createProcessLogger, logFunction } from '../logging/process-logger.ts';
import { runApprovalsCommand } from './approvals-command.ts';
import { runAuditCommand } from './audit-command.ts';
import { runKubeconfigCommand } from './kubeconfig-command.ts';
import { runPolicyCommand } from './policy-command.ts';
import { runSessionsCommand } from './sessions-command.ts';
import { runTokenCommand } from './token-command.ts';

const USAGE = `usage: portcullis <command>

commands:
  serve                 start the decision point (PORTCULLIS_* variables configure it; see docs/configuration.md)
  token --sub S [--role R]... [--kind agent|human] [--ttl 15m] [--resource NAME]... [--console | --aud A]
                        print a token from the local dev issuer (role pep with --resource makes a PEP
                        credential bound to those resources; --console a console session token)
  audit verify|tail|report
                        prove the audit trail complete and untampered, read it, or build the
                        NIST SP 800-53 evidence report (portcullis audit for details)
  policy impact --bundle DIR|FILE [--from ISO --to ISO] [--resource R] [--principal P] [--allow-loosening]
                        what a candidate policy would change in the recorded decisions of a period;
                        exit 1 on a loosening change (portcullis policy for details)
  sessions list|show|replay
                        find recorded sessions, show one's commands with their decisions and
                        approvals, replay an interactive session (portcullis sessions for details)
  kubeconfig --resource NAME --server URL [--token T | --token-command CMD] [--ca-file F]
                        print a kubeconfig for kubectl through the Kubernetes PEP (with
                        --token-command, a credential plugin that fetches fresh tokens)
  approvals [list|approve|deny|history|watch]
                        the approver's console: the live queue on a terminal, or one step for
                        scripts (portcullis approvals --help for details)
`;

/** The `portcullis` command: one entry, one sub-command per file. */
export async function runCli(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'serve':
      return serve();
    case 'token': {
      const { stateDir, identity } = loadPdpConfig();
      return runTokenCommand(rest, stateDir, undefined, { api: identity.audience, console: identity.consoleAudience });
    }
    case 'audit':
      return runAuditCommand(rest, loadPdpConfig());
    case 'policy':
      return runPolicyCommand(rest, loadPdpConfig());
    case 'sessions':
      return runSessionsCommand(rest, loadPdpConfig(), process, stopOnInterrupt());
    case 'approvals':
      return runApprovalsCommand(rest, loadPdpConfig().stateDir);
    case 'kubeconfig':
      return runKubeconfigCommand(rest);
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      process.stdout.write(USAGE);
      return command === undefined ? 2 : 0;
    default:
      process.stderr.write(`portcullis: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

/** Ctrl-C during a replay stops the playback (the terminal is left as it was). */
function stopOnInterrupt(): AbortSignal {
  const controller = new AbortController();
  process.once('SIGINT', () => controller.abort());
  return controller.signal;
}

async function serve(): Promise<number> {
  const config = loadPdpConfig();
  // JSON lines when the log is not a terminal, readable lines when it is.
  const logger = createProcessLogger({ name: 'portcullis-pdp' });
  const log = logFunction(logger);
  // Listened for before starting: a signal that arrives while the PDP starts (after it printed
  // "listening") still drains it, instead of ending the process with records in flight. Later
  // signals are ignored, so a second Ctrl-C cannot cut the drain short.
  const signalled = new Promise<string>((resolve) => {
    process.on('SIGINT', () => resolve('SIGINT'));
    process.on('SIGTERM', () => resolve('SIGTERM'));
  });
  // Loaded only to serve: the other commands start without the whole PDP (about a second less).
  const { startPdp } = await import('../main.ts');
  const pdp = await startPdp(config, log);
  const ended = await Promise.race([signalled.then((signal) => ({ signal })), pdp.stopped.then((reason) => ({ reason }))]);
  if ('reason' in ended) {
    // Stopped on its own (and already drained): a failure for whatever supervises the process.
    log(`stopped: ${ended.reason}`, { reason: ended.reason });
    return 1;
  }
  log(`${ended.signal}: draining and stopping`, { signal: ended.signal });
  await pdp.close().catch((error: unknown) => logger.error({ err: error }, `error while stopping: ${(error as Error).message}`));
  return 0;
}
