import { Agent, request } from 'node:http';

export interface JsonResponse<T> {
  readonly status: number;
  readonly body: T;
}

/**
 * JSON over node:http on a keep-alive agent, as a PEP talks to the PDP: connections stay open
 * and are reused, so a measured round trip is one request, not a TCP handshake.
 */
export class KeepAliveHttp {
  readonly agent: Agent;

  constructor(maxSockets = 16) {
    this.agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'fifo' });
  }

  get<T>(url: string, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
    return this.#send<T>('GET', url, headers, undefined);
  }

  post<T>(url: string, body: string, headers: Record<string, string> = {}): Promise<JsonResponse<T>> {
    return this.#send<T>('POST', url, { 'content-type': 'application/json', ...headers }, body);
  }

  /** Sockets open to the target (busy and idle). */
  openSockets(): number {
    const count = (table: NodeJS.ReadOnlyDict<unknown[]>): number => Object.values(table).reduce((sum, list) => sum + (list?.length ?? 0), 0);
    return count(this.agent.sockets) + count(this.agent.freeSockets);
  }

  close(): void {
    this.agent.destroy();
  }

  #send<T>(method: string, url: string, headers: Record<string, string>, body: string | undefined): Promise<JsonResponse<T>> {
    return new Promise((resolve, reject) => {
      const outgoing = request(url, { method, headers: body === undefined ? headers : { ...headers, 'content-length': Buffer.byteLength(body) }, agent: this.agent }, (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => {
          const text = Buffer.concat(chunks).toString();
          try {
            resolve({ status: response.statusCode ?? 0, body: JSON.parse(text) as T });
          } catch {
            reject(new Error(`${method} ${url} answered ${response.statusCode} with non-JSON: ${text.slice(0, 200)}`));
          }
        });
        response.on('error', reject);
      });
      outgoing.on('error', reject);
      outgoing.end(body);
    });
  }
}
