// The setup most gateway suites share: the reference filesystem server, every line it receives
// tapped to a log, behind a gateway under the gateway test policy.
import { join } from 'node:path';
import { startMcpGateway, type McpGateway } from '../support/mcp-gateway.ts';
import { prepareFilesystemServer, type FilesystemServerFixture } from '../support/mcp-servers.ts';
import { gatewayTestPolicyBundle } from './gateway-test-policy.ts';
import { tappedServerEntry } from './raw-session.ts';

export interface TappedFilesGateway {
  readonly gateway: McpGateway;
  readonly files: FilesystemServerFixture;
  /** The tap's log: every line the server was sent. */
  readonly log: string;
}

/** Starts the tapped server's gateway as `files`; its folders are removed again if the gateway cannot start. */
export async function startTappedFilesGateway(pepEnv: Record<string, string> = {}): Promise<TappedFilesGateway> {
  const files = prepareFilesystemServer();
  const log = join(files.outside, 'tap.log');
  try {
    const gateway = await startMcpGateway({ servers: [tappedServerEntry('files', files.launch, log)], pdpEnv: { PORTCULLIS_BUNDLE_FILE: gatewayTestPolicyBundle() }, pepEnv });
    return { gateway, files, log };
  } catch (error) {
    files.remove();
    throw error;
  }
}
