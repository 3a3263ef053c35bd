import type { PatchErrorKind } from './patch-error.ts';

/** A Kubernetes `Status` (the `v1` failure form kubectl prints), as the PEP answers a refused write. */
export interface KubeStatus {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: Record<string, never>;
  status: 'Failure';
  message: string;
  reason: string;
  code: number;
  details?: unknown;
}

const REASONS: Readonly<Record<number, string>> = {
  400: 'BadRequest',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  502: 'InternalError',
  503: 'ServiceUnavailable',
};

export function writeRefusal(code: number, message: string): KubeStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason: REASONS[code] ?? 'Unknown', code };
}

const KIND_CODES: Readonly<Record<PatchErrorKind, number>> = { invalid: 422, unsupported: 403, 'unmodelled-kind': 415, conflict: 409, 'too-large': 413 };

export function patchErrorCode(kind: PatchErrorKind): number {
  return KIND_CODES[kind];
}
