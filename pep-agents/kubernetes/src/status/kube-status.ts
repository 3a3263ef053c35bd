import type { ServerResponse } from 'node:http';
import { clientSafeText } from '@portcullis/pep-core';

/** The Status reasons (metav1.StatusReason) the PEP answers with, by HTTP code. */
export const STATUS_REASONS = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  409: 'Conflict',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  500: 'InternalError',
  502: 'InternalError',
  503: 'ServiceUnavailable',
} as const;
export type StatusCode = keyof typeof STATUS_REASONS;

/** A Kubernetes `Status` (meta/v1): what kubectl and client libraries print as "Error from server (Reason): message". */
export interface KubeStatus {
  readonly kind: 'Status';
  readonly apiVersion: 'v1';
  readonly metadata: Record<string, never>;
  readonly status: 'Failure';
  readonly message: string;
  readonly reason: (typeof STATUS_REASONS)[StatusCode];
  readonly code: StatusCode;
  readonly details?: { readonly causes?: readonly { readonly reason?: string; readonly message: string; readonly field?: string }[] };
}

/** A failure Status; the message is made fit for a client (no tokens, no control characters). */
export function kubeStatus(code: StatusCode, message: string, details?: KubeStatus['details']): KubeStatus {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: clientSafeText(message), reason: STATUS_REASONS[code], code, ...(details ? { details } : {}) };
}

/** The Status as an HTTP response's bytes. */
export function statusBody(status: KubeStatus): Buffer {
  return Buffer.from(JSON.stringify(status), 'utf8');
}

/** Answers a request with the Status; the connection is closed after it when `close` (the request body may be unread). */
export function writeStatus(response: ServerResponse, status: KubeStatus, options: { readonly close?: boolean } = {}): number {
  const body = statusBody(status);
  if (response.headersSent) {
    response.destroy();
    return 0;
  }
  response.writeHead(status.code, {
    'content-type': 'application/json',
    'content-length': String(body.length),
    'cache-control': 'no-cache, private',
    ...(options.close ? { connection: 'close' } : {}),
  });
  response.end(body);
  return body.length;
}

/** The Status as a raw HTTP/1.1 response on a socket that asked for an upgrade (no ServerResponse exists there). */
export function statusResponseHead(status: KubeStatus): Buffer {
  const body = statusBody(status);
  const head = `HTTP/1.1 ${status.code} ${status.reason}\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\ncache-control: no-cache, private\r\nconnection: close\r\n\r\n`;
  return Buffer.concat([Buffer.from(head, 'latin1'), body]);
}
