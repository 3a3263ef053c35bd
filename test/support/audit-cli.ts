import { runAuditCommand } from '@portcullis/pdp';
import { loadPdpConfig } from '@portcullis/pdp';

export interface AuditCliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `portcullis audit …` in-process against a state folder, capturing its output. */
export async function auditCli(stateDir: string, ...args: string[]): Promise<AuditCliRun> {
  let stdout = '';
  let stderr = '';
  const code = await runAuditCommand(args, loadPdpConfig({ PORTCULLIS_STATE_DIR: stateDir }), {
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
  });
  return { code, stdout, stderr };
}
