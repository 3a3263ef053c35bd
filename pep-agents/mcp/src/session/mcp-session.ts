import { CommandGate, DecisionReuseCache, type ActionAuthorizer, type CommandOutcome, type DecisionAnswer, type LogFunction, type SessionRecorder, type SessionV1 } from '@portcullis/pep-core';
import { forwardedRequest } from '../calls/forwarded-request.ts';
import type { McpAction, McpCommand, ProgressToken } from '../calls/mcp-command.ts';
import type { McpMask } from '../calls/mcp-masks.ts';
import type { McpProtocolAdapter } from '../calls/mcp-protocol-adapter.ts';
import type { McpRefusal } from '../calls/mcp-refusal.ts';
import { progressNotifier, type ProgressNotifier } from '../calls/progress-notifier.ts';
import { JSON_RPC_ERROR, jsonRpcError } from '../jsonrpc/json-rpc-errors.ts';
import { isNotification, isRequest, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse, type RequestId } from '../jsonrpc/json-rpc-message.ts';
import { isObject } from '../jsonrpc/json-rpc-reader.ts';
import type { ResultMasker } from '../results/result-masker.ts';
import { AGENT_NOTIFICATIONS, AGENT_REQUESTS, SERVER_NOTIFICATIONS, SERVER_REQUESTS } from '../router/mcp-methods.ts';
import type { UpstreamConnection } from '../upstream/upstream-connection.ts';
import { UpstreamUnavailableError } from '../upstream/upstream-error.ts';
import type { AgentChannel } from './agent-channel.ts';
import { AgentRequests } from './agent-requests.ts';
import { decidedAction } from './decided-action.ts';
import { SessionMasking } from './session-masking.ts';
import { type MaskingAnswer, StandingMasks } from './standing-masks.ts';
import { listedTools, ToolCatalog } from './tool-catalog.ts';

export interface McpSessionDeps {
  /** The upstream server's name (the resource). */
  readonly server: string;
  /** A new connection to the server for this session, not yet started. */
  readonly connectUpstream: (handlers: { onServerMessage: (message: JsonRpcRequest | JsonRpcNotification) => void; onEnd: (reason: string) => void }) => UpstreamConnection;
  readonly adapter: McpProtocolAdapter;
  readonly authorizer: ActionAuthorizer<McpMask>;
  readonly recorder: SessionRecorder;
  readonly masker: ResultMasker;
  /** How long the agent may take to answer a request the server sent it. */
  readonly agentTimeoutMs: number;
  /** How often a call held for approval is sent its progress again (its client's request timeout resets on progress). */
  readonly progressKeepAliveMs: number;
  readonly log: LogFunction;
  /** The session's connect decision: its masking (a principal who may not read personal data in clear) stands from the start. */
  readonly connectAnswer?: MaskingAnswer;
}

/** An agent request the gateway is working on. */
interface InFlight {
  readonly abort: AbortController;
  readonly progressToken?: ProgressToken;
  /** A decided call's answer once it runs: what the server says meanwhile is masked under it too. */
  answer?: DecisionAnswer<McpMask>;
}

/** Requests of one session in progress at once; more are refused until some end (each may hold a PDP decision). */
const MAX_IN_FLIGHT = 64;

/** Most tools one tools/list answer may carry into a decision (the contract's bound). */
const MAX_DECIDED_TOOLS = 1024;

/**
 * One agent session through the gateway, with its own upstream connection: the router. Every
 * message from the agent is on the allow-list or refused here; decided methods pass the command
 * gate (PDP, approval hold, record) before the server sees them; requests the server sends the
 * agent are decided the other way. What is forwarded is the parsed message that was decided.
 */
export class McpSession {
  private upstream: UpstreamConnection | undefined;
  /** Settles once the upstream connection started (or failed to): agent notifications wait for it. */
  private started: Promise<void> = Promise.resolve();
  private readonly tools: ToolCatalog;
  /**
   * This session's allows the PDP granted reuse for (the very same call again), under its current
   * token: a gate holds the cache it started with, so a decision asked under an older token lands
   * in that token's discarded cache, never in this one.
   */
  private reuse = new DecisionReuseCache<McpMask>();
  private readonly inFlight = new Map<RequestId, InFlight>();
  /** Requests the server sent the agent, waiting for the agent's answer. */
  private readonly agentRequests: AgentRequests;
  private hiddenTools: ReadonlySet<string> = new Set();
  /** The maskings the session's decisions asked for: everything the server sends beside a result is masked under them. */
  private readonly standing = new StandingMasks();
  private readonly masking: SessionMasking;
  private initialized = false;
  private closed: string | undefined;

  constructor(
    readonly id: string,
    private subjectToken: string,
    private readonly session: SessionV1,
    private readonly channel: AgentChannel,
    private readonly deps: McpSessionDeps,
  ) {
    if (deps.connectAnswer !== undefined) this.standing.add(deps.connectAnswer);
    this.agentRequests = new AgentRequests(channel, deps.agentTimeoutMs);
    this.masking = new SessionMasking(this.standing, deps.masker);
    this.tools = new ToolCatalog((cursor) => this.requireUpstream().request({ method: 'tools/list', ...(cursor === undefined ? {} : { params: { cursor } }) }));
  }

  /** Requests of the agent in progress (an idle session has none). */
  get busy(): boolean {
    return this.inFlight.size > 0;
  }

  /** A refreshed credential of the same principal (the HTTP front checked it): decisions use it from now on. */
  useToken(token: string): void {
    this.subjectToken = token;
    // Allows granted under the old token (its roles, its expiry) do not stand for the new one, nor
    // do those still being decided under it: they fill the old cache, which nothing reads again.
    this.reuse = new DecisionReuseCache<McpMask>();
  }

  /** One message from the agent, as the strict reader passed it. Never throws: every fault is an answer. */
  async handleAgentMessage(message: JsonRpcMessage): Promise<void> {
    try {
      if (isRequest(message)) await this.onAgentRequest(message);
      else if (isNotification(message)) this.onAgentNotification(message);
      else this.agentRequests.answer(message);
    } catch (error) {
      this.deps.log(`MCP request handling failed: ${error instanceof Error ? error.message : String(error)}`, { session: this.id, server: this.deps.server });
      if (isRequest(message)) await this.reply(jsonRpcError(message.id, JSON_RPC_ERROR.internalError, 'portcullis: the gateway could not handle the request'));
    }
  }

  /** Ends the session: the upstream connection (a stdio server's process) and the record. */
  async close(reason: string): Promise<void> {
    if (this.closed !== undefined) return;
    this.closed = reason;
    for (const request of this.inFlight.values()) request.abort.abort();
    await this.upstream?.close();
    this.deps.recorder.end(reason);
  }

  private async onAgentRequest(request: JsonRpcRequest): Promise<void> {
    const handling = AGENT_REQUESTS.get(request.method);
    if (handling === undefined) return this.reply(jsonRpcError(request.id, JSON_RPC_ERROR.methodNotFound, `portcullis: the method "${request.method.slice(0, 100)}" is not available through the gateway`));
    if (this.inFlight.has(request.id)) return this.reply(jsonRpcError(request.id, JSON_RPC_ERROR.invalidRequest, 'portcullis: a request with this id is already in progress'));
    if (this.inFlight.size >= MAX_IN_FLIGHT) return this.reply(jsonRpcError(request.id, JSON_RPC_ERROR.internalError, `portcullis: ${MAX_IN_FLIGHT} requests of this session are in progress already; send more once some are answered`));
    if (handling === 'initialize' ? this.upstream !== undefined : !this.initialized) {
      return this.reply(jsonRpcError(request.id, JSON_RPC_ERROR.invalidRequest, handling === 'initialize' ? 'portcullis: the session is already initialized' : 'portcullis: initialize the session first'));
    }
    if (this.closed !== undefined || this.upstream?.endedBecause !== undefined) {
      return this.reply(jsonRpcError(request.id, JSON_RPC_ERROR.serverUnavailable, `portcullis: ${this.upstream?.endedBecause ?? 'the session has ended'}; start a new session`));
    }
    const progressToken = progressTokenOf(request);
    const inFlight: InFlight = { abort: new AbortController(), ...(progressToken === undefined ? {} : { progressToken }) };
    this.inFlight.set(request.id, inFlight);
    try {
      if (handling === 'initialize') await this.initialize(request);
      else if (handling === 'relay') await this.relay(request, inFlight);
      else if (handling === 'tools-list') await this.listTools(request, inFlight);
      else await this.decided(request, inFlight);
    } catch (error) {
      if (!(error instanceof UpstreamUnavailableError)) throw error;
      if (!inFlight.abort.signal.aborted) await this.reply(jsonRpcError(request.id, JSON_RPC_ERROR.serverUnavailable, `portcullis: ${error.message}`));
    } finally {
      this.inFlight.delete(request.id);
    }
  }

  private async initialize(request: JsonRpcRequest): Promise<void> {
    const upstream = this.deps.connectUpstream({ onServerMessage: (message) => void this.onServerMessage(message), onEnd: (reason) => this.onUpstreamEnd(reason) });
    this.upstream = upstream;
    const starting = upstream.start();
    this.started = starting.catch(() => undefined);
    await starting;
    const response = await upstream.request(request);
    if ('result' in response && typeof response.result.protocolVersion === 'string') {
      upstream.setProtocolVersion(response.result.protocolVersion);
      this.initialized = true;
    }
    // The server's instructions are text it wrote: masked like every other (the protocol members around them are not).
    const shown = 'result' in response && typeof response.result.instructions === 'string' ? { ...response, result: { ...response.result, instructions: this.masking.text(response.result.instructions) } } : response;
    await this.reply({ ...shown, id: request.id });
  }

  private async relay(request: JsonRpcRequest, inFlight: InFlight): Promise<void> {
    const response = await this.requireUpstream().request(request, inFlight.abort.signal);
    await this.reply(this.masking.relayed({ ...response, id: request.id }));
  }

  /** The server's list, then the decision with its tools: the tools policy hides are not shown (nor callable in this session). */
  private async listTools(request: JsonRpcRequest, inFlight: InFlight): Promise<void> {
    const response = await this.requireUpstream().request(request, inFlight.abort.signal);
    if (!('result' in response)) return this.reply({ ...response, id: request.id });
    const listed = listedTools(response.result);
    if (listed.length > MAX_DECIDED_TOOLS) return this.reply(jsonRpcError(request.id, JSON_RPC_ERROR.refused, `portcullis: the server listed more than ${MAX_DECIDED_TOOLS} tools in one answer, more than can be decided`));
    const command = this.command(request, { type: 'mcp', method: 'tools/list', tools: listed });
    const { gate, notifier } = this.gate(request, inFlight);
    let verdict: Awaited<ReturnType<typeof gate.decide>>;
    try {
      verdict = await gate.decide(command, waitFor(inFlight));
    } finally {
      notifier.stop();
    }
    if (!verdict.allowed) return this.refuse(request, verdict.refusal);
    const hidden = hiddenTools(verdict.answer.obligations.hidden_tools);
    // A listing from its first page starts afresh (policy may have changed); later pages add to it.
    const firstPage = request.params?.cursor === undefined;
    this.hiddenTools = firstPage ? hidden : new Set([...this.hiddenTools, ...hidden]);
    const tools = Array.isArray(response.result.tools) ? response.result.tools : [];
    const shown = tools.filter((tool) => !(isObject(tool) && typeof tool.name === 'string' && hidden.has(tool.name))).map((tool) => this.masking.toolText(tool));
    await this.reply({ jsonrpc: '2.0', id: request.id, result: { ...response.result, tools: shown } });
  }

  /** tools/call, resources/read, prompts/get: decided, then forwarded as decided, the answer masked. */
  private async decided(request: JsonRpcRequest, inFlight: InFlight): Promise<void> {
    const action = await decidedAction(request, { hidden: this.hiddenTools, tool: (name) => this.tools.tool(name) });
    if ('error' in action) return this.reply(action.error);
    // What the server gets is built from the decided action alone (forwarded-request.ts), and the command carries it.
    const asked = this.command(request, action.action);
    const command: McpCommand = { ...asked, request: forwardedRequest(asked) };
    const { gate, notifier } = this.gate(request, inFlight);
    let run: Awaited<ReturnType<typeof gate.run>>;
    try {
      run = await gate.run(
        command,
        (answer) => {
          // MCP allows no progress once the answer is sent: the hold's notices end before the server is asked.
          notifier.stop();
          return this.forwardDecided(command.request, answer, inFlight);
        },
        waitFor(inFlight),
      );
    } finally {
      notifier.stop();
    }
    if (!run.ran) await this.refuse(request, run.refusal);
  }

  private async forwardDecided(request: JsonRpcRequest, answer: DecisionAnswer<McpMask>, inFlight: InFlight): Promise<CommandOutcome> {
    inFlight.answer = answer;
    this.standing.add(answer);
    const response = await this.requireUpstream().request(request, inFlight.abort.signal);
    if ('error' in response) {
      // A server's error text may quote what the answer masks: it is masked like the result.
      const masked = this.deps.masker.maskError(response.error, answer);
      await this.reply({ jsonrpc: '2.0', id: request.id, error: masked.error });
      return { status: 'failure', error: `JSON-RPC error ${response.error.code}`, masked: masked.masked };
    }
    const masked = this.deps.masker.mask(request.method as McpAction['method'], response.result, answer);
    const answerToAgent = { jsonrpc: '2.0' as const, id: request.id, result: masked.result };
    await this.reply(answerToAgent);
    const bytes = Buffer.byteLength(JSON.stringify(masked.result));
    const failed = masked.result.isError === true;
    return { status: failed ? 'failure' : 'success', ...(failed ? { error: 'the tool reported an error' } : {}), bytes, masked: masked.masked };
  }

  private onAgentNotification(notification: JsonRpcNotification): void {
    if (!AGENT_NOTIFICATIONS.has(notification.method)) {
      this.deps.log(`dropped a notification the gateway does not pass on: ${notification.method.slice(0, 100)}`, { session: this.id, server: this.deps.server });
      return;
    }
    if (notification.method === 'notifications/cancelled') {
      // The agent's id is its own: the gateway ends its work on that request, and cancels the server's part under the gateway's id.
      const requestId = notification.params?.requestId;
      if (typeof requestId === 'string' || typeof requestId === 'number') this.inFlight.get(requestId)?.abort.abort();
      return;
    }
    const upstream = this.upstream;
    if (upstream === undefined) return;
    void this.started.then(() => upstream.send(notification));
  }

  private async onServerMessage(message: JsonRpcRequest | JsonRpcNotification): Promise<void> {
    const upstream = this.upstream;
    if (upstream === undefined || this.closed !== undefined) return;
    if (!('id' in message)) {
      if (!SERVER_NOTIFICATIONS.has(message.method)) return;
      if (message.method === 'notifications/tools/list_changed') this.tools.invalidate();
      const shown = this.masking.notification(message);
      if (shown !== undefined) await this.channel.send(shown, this.relatedRequest(message)).catch(() => undefined);
      return;
    }
    // The server checks its client is there: the gateway is that client.
    if (message.method === 'ping') return upstream.send({ jsonrpc: '2.0', id: message.id, result: {} });
    if (!SERVER_REQUESTS.has(message.method)) {
      return upstream.send(jsonRpcError(message.id, JSON_RPC_ERROR.methodNotFound, `portcullis: the method "${message.method.slice(0, 100)}" is not passed to the client by the gateway`));
    }
    const inFlight: InFlight = { abort: new AbortController() };
    // The agent is shown the request masked under the session's maskings: that is what is decided (and audited) too.
    const shown = this.masking.serverRequest(message);
    const command = this.command(shown, { type: 'mcp', method: shown.method as McpAction['method'], direction: 'to_client', ...(shown.params === undefined ? {} : { params: shown.params }) });
    try {
      const run = await this.gate(message, inFlight).gate.run(command, async () => {
        const response = await this.agentRequests.ask(shown, this.relatedRequest(shown));
        await upstream.send({ ...response, id: message.id });
        return 'error' in response ? { status: 'failure', error: `JSON-RPC error ${response.error.code}` } : { status: 'success' };
      });
      if (!run.ran) {
        const refusal = run.refusal;
        await upstream.send(jsonRpcError(message.id, refusal.kind === 'error' ? refusal.error.code : JSON_RPC_ERROR.refused, refusal.kind === 'error' ? refusal.error.message : 'portcullis: refused by policy'));
      }
    } catch (error) {
      await upstream.send(jsonRpcError(message.id, JSON_RPC_ERROR.internalError, `portcullis: ${error instanceof Error ? error.message : 'the client could not be asked'}`));
    }
  }

  /** The agent request a server message belongs with: the one whose progress token it names, else the latest in progress. */
  private relatedRequest(message: JsonRpcRequest | JsonRpcNotification): RequestId | undefined {
    const token = message.params?.progressToken;
    let latest: RequestId | undefined;
    for (const [id, request] of this.inFlight) {
      if (token !== undefined && request.progressToken === token) return id;
      latest = id;
    }
    return message.method === 'notifications/progress' ? undefined : latest;
  }

  private onUpstreamEnd(reason: string): void {
    // The connection already failed every request it was waiting on; a request still being decided fails when it is forwarded.
    this.deps.log(`upstream connection ended: ${reason}`, { session: this.id, server: this.deps.server });
  }

  private command(request: JsonRpcRequest, action: McpAction): McpCommand {
    const progressToken = progressTokenOf(request);
    return { server: this.deps.server, request, action, ...(progressToken === undefined ? {} : { progressToken }) };
  }

  /**
   * A gate for one command: its own cancellation and progress channel, the session's record. The
   * notifier keeps a held call alive until its caller stops it (always, in a `finally`).
   */
  private gate(request: JsonRpcRequest, inFlight: InFlight): { readonly gate: CommandGate<McpCommand, McpRefusal, McpMask>; readonly notifier: ProgressNotifier } {
    const notifier = progressNotifier((notification) => void this.channel.send(notification, request.id).catch(() => undefined), inFlight.progressToken, {
      keepAliveMs: this.deps.progressKeepAliveMs,
      signal: inFlight.abort.signal,
    });
    const gate = new CommandGate(this.deps.adapter, this.deps.authorizer, () => ({ subjectToken: this.subjectToken, session: this.session, signal: inFlight.abort.signal, notify: notifier }), { recorder: this.deps.recorder, reuse: this.reuse });
    return { gate, notifier };
  }

  private async refuse(request: JsonRpcRequest, refusal: McpRefusal): Promise<void> {
    if (refusal.kind === 'error') return this.reply({ jsonrpc: '2.0', id: request.id, error: refusal.error });
    await this.reply({ jsonrpc: '2.0', id: request.id, result: { ...refusal.result, content: [...refusal.result.content] } });
  }

  private reply(response: JsonRpcResponse): Promise<void> {
    return this.channel.send(response).catch(() => undefined);
  }

  private requireUpstream(): UpstreamConnection {
    if (this.upstream === undefined) throw new UpstreamUnavailableError('the session is not initialized');
    return this.upstream;
  }
}

/** The `hidden_tools` obligation's names (anything else there hides nothing more: the calls are still decided one by one). */
function hiddenTools(value: unknown): ReadonlySet<string> {
  return new Set(Array.isArray(value) ? value.filter((name): name is string => typeof name === 'string') : []);
}

/**
 * An agent request without a progress token cannot be kept alive while it is held (MCP has no
 * other way to speak of a request in flight, and the client's own timeout runs out): it is
 * answered at once with the approval it waits for, and told to make the same call again.
 */
function waitFor(inFlight: InFlight): { readonly approvalWaitMs?: number } {
  return inFlight.progressToken === undefined ? { approvalWaitMs: 0 } : {};
}

function progressTokenOf(request: JsonRpcRequest): ProgressToken | undefined {
  const meta = request.params?._meta;
  const token = isObject(meta) ? meta.progressToken : undefined;
  return typeof token === 'string' || typeof token === 'number' ? token : undefined;
}
