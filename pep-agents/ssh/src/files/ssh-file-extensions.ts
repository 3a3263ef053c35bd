import type { Client, SFTPWrapper } from 'ssh2';
import type { ChannelSetup, SshConnectionContext, SshPepExtensions } from '../server/ssh-connection-context.ts';
import type { FileSessionDependencies } from './file-decisions.ts';
import { readLegacyScp } from './legacy-scp-command.ts';
import { refuseLegacyScp, serveLegacyScp } from './legacy-scp-session.ts';
import { serveSftp } from './sftp-session.ts';

/**
 * The SSH server's file side: the sftp subsystem, and exec requests that are legacy scp's
 * server side (`scp -t`, `scp -f`), taken before the exec path so no scp runs on the host.
 */
export function sshFileExtensions(): SshPepExtensions {
  return {
    sftp: (client, opened, context) => {
      void serveSftp({ client, opened, openUpstream: () => openUpstreamSftp(context), dependencies: fileDependencies(context) }).catch((error: unknown) =>
        context.log(`sftp session failed: ${error instanceof Error ? error.message : String(error)}`, { session: context.session.id }),
      );
    },
    execHandlers: [
      {
        handles: (command) => readLegacyScp(command) !== undefined,
        async run(channel, command, context: SshConnectionContext, _setup: ChannelSetup) {
          const reading = readLegacyScp(command);
          let status = 1;
          try {
            if (!reading) status = refuseLegacyScp(channel, 'not a legacy scp request');
            else if (!reading.ok) status = refuseLegacyScp(channel, reading.problem);
            else status = await serveLegacyScp({ channel, request: reading.request, openUpstream: () => openUpstreamSftp(context), dependencies: fileDependencies(context) });
          } catch (error) {
            context.log(`legacy scp failed: ${error instanceof Error ? error.message : String(error)}`, { session: context.session.id });
          }
          channel.exit(status);
          channel.end();
        },
      },
    ],
  };
}

function fileDependencies(context: SshConnectionContext): FileSessionDependencies {
  return {
    authorizer: context.authorizer,
    context: () => ({ subjectToken: context.subjectToken, session: context.session }),
    recorder: context.recorder,
    strategies: context.strategies,
    log: context.log,
  };
}

/** The sftp subsystem on the PEP's own login to the host. */
async function openUpstreamSftp(context: SshConnectionContext): Promise<SFTPWrapper> {
  const client: Client = await context.upstream();
  return new Promise((resolve, reject) => client.sftp((error, sftp) => (error ? reject(error) : resolve(sftp))));
}
