import type { ServerResponse } from 'node:http';

/**
 * Why a response that needed masking was withheld. Fixed texts: a reason never quotes the
 * response, so a value that was to be hidden cannot come back in an error.
 */
export const WITHHELD_REASONS = {
  'not-json': "the API server answered in a format the PEP cannot mask (it asked for JSON)",
  'unknown-encoding': 'the API server answered with a content encoding the PEP cannot decode',
  'malformed-json': 'the API server answered with JSON the PEP could not read',
  'too-large': 'a response value is larger than the PEP masks',
  'upstream-failed': 'the API server response broke off',
  'masking-failed': 'masking the response failed',
} as const;
export type WithheldReason = keyof typeof WITHHELD_REASONS;

/** A Kubernetes `Status` (502) telling the client the response was withheld rather than relayed unmasked. */
export function writeWithheldStatus(client: ServerResponse, reason: WithheldReason): number {
  const body = Buffer.from(
    `${JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: `portcullis: ${WITHHELD_REASONS[reason]}, so it was withheld: policy asks for parts of it to be masked`,
      reason: 'InternalError',
      code: 502,
    })}\n`,
  );
  client.writeHead(502, { 'content-type': 'application/json', 'content-length': body.length });
  client.end(body);
  return body.length;
}
