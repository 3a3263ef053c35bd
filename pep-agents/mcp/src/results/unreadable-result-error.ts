/**
 * A result that must be masked but is not in the shape its method's results take, so no mask
 * can be applied to it with certainty: the gateway answers the call with a JSON-RPC error rather
 * than relay it.
 */
export class UnreadableResultError extends Error {
  constructor(method: string, what: string) {
    super(`portcullis: the server's ${method} result could not be masked (${what}), so it was withheld`);
    this.name = 'UnreadableResultError';
  }
}
