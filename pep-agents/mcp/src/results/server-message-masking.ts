import { masksAnything, type MaskingPlan } from './masking-plan.ts';
import { ResultValueMasking } from './result-value-masking.ts';
import { withheldNotice } from './withheld-content.ts';

/** A JSON-RPC error object as a server answers a call with it. */
export interface JsonRpcErrorObject {
  readonly code: number;
  readonly message: string;
  readonly data?: unknown;
}

/** A JSON-RPC notification a server sends while a call runs. */
export interface ServerNotification {
  readonly method: string;
  readonly params?: Record<string, unknown>;
}

/**
 * What a call's result may not carry must not come back beside it either: the server's error
 * for the call, and the log lines (`notifications/message`) and progress messages
 * (`notifications/progress`) it sends while the call runs. Under JSON paths their text cannot be
 * masked with certainty (a path names values in a structured result, not in prose), so it is
 * withheld; under detectors alone it is scrubbed like the result's text.
 */
export function maskServerError(error: JsonRpcErrorObject, plan: MaskingPlan): { readonly error: JsonRpcErrorObject; readonly masked: number } {
  if (!masksAnything(plan)) return { error, masked: 0 };
  if (plan.paths) return { error: { code: error.code, message: withheldNotice("the server's error message") }, masked: 1 };
  const masking = new ResultValueMasking(plan);
  const message = masking.scrub(error.message);
  const data = error.data === undefined ? {} : { data: masking.structured(error.data) };
  return { error: { code: error.code, message, ...data }, masked: masking.masked };
}

export function maskServerNotification<N extends ServerNotification>(notification: N, plan: MaskingPlan): { readonly notification: N; readonly masked: number } {
  const params = notification.params;
  if (!masksAnything(plan) || params === undefined) return { notification, masked: 0 };
  switch (notification.method) {
    case 'notifications/message': {
      if (!('data' in params)) return { notification, masked: 0 };
      if (plan.paths) return { notification: withParams(notification, { ...params, data: withheldNotice('log data') }), masked: 1 };
      const masking = new ResultValueMasking(plan);
      const data = masking.structured(params.data);
      return { notification: withParams(notification, { ...params, data }), masked: masking.masked };
    }
    case 'notifications/progress': {
      if (typeof params.message !== 'string') return { notification, masked: 0 };
      if (plan.paths) {
        const { message: _message, ...rest } = params;
        return { notification: withParams(notification, rest), masked: 1 };
      }
      const masking = new ResultValueMasking(plan);
      return { notification: withParams(notification, { ...params, message: masking.scrub(params.message) }), masked: masking.masked };
    }
    default:
      // Other notifications name things (a resource's URI, a changed list), they carry no results.
      return { notification, masked: 0 };
  }
}

/** The notification with other params; everything else (jsonrpc, method) as it was. */
function withParams<N extends ServerNotification>(notification: N, params: Record<string, unknown>): N {
  return { ...notification, params };
}
