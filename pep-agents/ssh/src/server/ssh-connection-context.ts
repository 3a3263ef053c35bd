import type { ActionAuthorizer, ByteStreamMaskV1, LogFunction, MaskStrategyRegistry, ResourceV1, SessionRecorder, SessionV1, TerminalRecorder } from '@portcullis/pep-core';
import type { Client, PseudoTtyInfo, ServerChannel, SFTPWrapper } from 'ssh2';

/** One logged-in client connection, as every part that serves its channels sees it. */
export interface SshConnectionContext {
  /** The caller's OIDC token as presented at login (never logged). */
  readonly subjectToken: string;
  /** The SSH login name the client asked for. */
  readonly loginName: string;
  readonly session: SessionV1 & { readonly id: string };
  readonly resource: ResourceV1;
  /** Decides actions for this resource (holding approvals, failing closed). */
  readonly authorizer: ActionAuthorizer<ByteStreamMaskV1>;
  /** This connection's session record: every command and file operation is an entry in it. */
  readonly recorder: SessionRecorder;
  readonly strategies: MaskStrategyRegistry;
  /** A whole-session recording (asciicast v2) under the decision that opened an interactive session. */
  terminalRecorder(decisionId: string, terminal: { cols: number; rows: number; term?: string }): TerminalRecorder;
  /** Aborted when the client connection ends: every decision and approval wait of its channels stops. */
  readonly closed: AbortSignal;
  /** Work whose session entry is still to come: the session record ends only after it settled. */
  track(work: Promise<unknown>): void;
  /** The PEP's own login on the host for this connection (opened once, shared by its channels). */
  upstream(): Promise<Client>;
  readonly log: LogFunction;
}

/** What a session channel asked for before its exec, shell or subsystem. */
export interface ChannelSetup {
  readonly pty: PseudoTtyInfo | undefined;
  readonly env: Readonly<Record<string, string>>;
}

/**
 * Parts that serve some channels apart from the exec path: the SFTP subsystem, and exec
 * commands with a protocol of their own (legacy `scp -t`/`scp -f`). Without one, sftp is refused.
 */
export interface SshPepExtensions {
  /**
   * The sftp subsystem: its channel accepted at once (OpenSSH's sftp sends its first requests
   * without waiting for the reply, and ssh2 drops data on a channel not yet accepted), and whether
   * the PDP allows opening it (connect, channel subsystem); nothing is served before that says yes.
   */
  readonly sftp?: (client: SFTPWrapper, opened: Promise<boolean>, context: SshConnectionContext, setup: ChannelSetup) => void;
  /** Exec commands it serves itself; the first whose `handles` says so takes the (accepted) channel. */
  readonly execHandlers?: readonly SshExecHandler[];
}

export interface SshExecHandler {
  handles(command: string): boolean;
  /** Serves the whole channel: decisions, relay, exit status, end. Never rejects. */
  run(channel: ServerChannel, command: string, context: SshConnectionContext, setup: ChannelSetup): Promise<void>;
}
