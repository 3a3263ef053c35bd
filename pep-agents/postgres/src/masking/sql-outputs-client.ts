import type { PdpFailureCode, PdpTransport, SqlOutputsRequestV1 } from '@portcullis/pep-core';

/**
 * What the PDP's SQL analyzer says about one SELECT a PEP met outside a decision (`POST
 * /v1/sql/outputs`): a view's definition, for instance.
 */
export type SqlOutputsResult =
  /** `outputs` as the PDP sent them (the caller shape-checks each); `functions` lower case. */
  | { readonly kind: 'analyzed'; readonly outputs: readonly unknown[]; readonly functions: readonly string[] }
  /** The PDP cannot describe this text (not one row-returning SELECT, or it does not parse). Asking again will not help. */
  | { readonly kind: 'refused'; readonly message: string }
  /** No usable answer (the PDP is away, slow, failing, or refused the PEP's credential): worth asking again later. */
  | { readonly kind: 'unavailable'; readonly code: PdpFailureCode | 'pdp-refused'; readonly detail: string };

export interface SqlOutputsAnalyzer {
  /** Never rejects. */
  outputsOf(sql: string): Promise<SqlOutputsResult>;
}

/** `POST /v1/sql/outputs` over a PdpTransport: analysis only, no decision and no audit record. */
export class PdpSqlOutputsClient implements SqlOutputsAnalyzer {
  /** `resource`: the one the SQL comes from, named so the PDP checks this PEP fronts it. */
  constructor(private readonly transport: PdpTransport, private readonly resource?: { readonly type: string; readonly name: string }) {}

  async outputsOf(sql: string): Promise<SqlOutputsResult> {
    let result;
    try {
      const request: SqlOutputsRequestV1 = this.resource ? { sql, resource: { type: this.resource.type, name: this.resource.name } } : { sql };
      result = await this.transport.call('POST', '/v1/sql/outputs', request);
    } catch {
      return { kind: 'unavailable', code: 'pdp-error', detail: 'the transport failed' };
    }
    if (result.kind === 'failure') return { kind: 'unavailable', code: result.code, detail: result.detail };
    const body = result.body;
    if (result.status === 400) {
      // The analyzer's own words (it never echoes more than a parse error's position and token).
      const message = isRecord(body) && typeof body.message === 'string' ? body.message.slice(0, 256) : 'refused';
      return { kind: 'refused', message };
    }
    if (result.status >= 400) {
      const code = isRecord(body) && typeof body.code === 'string' ? body.code.slice(0, 64) : String(result.status);
      return { kind: 'unavailable', code: 'pdp-refused', detail: `the PDP refused the request (${code})` };
    }
    if (!isRecord(body) || !Array.isArray(body.outputs)) return { kind: 'unavailable', code: 'pdp-bad-answer', detail: 'the answer has no outputs' };
    // Without the functions a text calls, nobody can tell whether one reads more than its arguments.
    const functions: unknown = body.functions;
    if (!Array.isArray(functions) || !functions.every((name): name is string => typeof name === 'string')) {
      return { kind: 'unavailable', code: 'pdp-bad-answer', detail: 'the answer does not list the functions called' };
    }
    return { kind: 'analyzed', outputs: body.outputs, functions };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
