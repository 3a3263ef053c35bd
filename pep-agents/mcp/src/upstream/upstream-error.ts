/** The server could not be reached, ended, or did not answer in time: every request waiting on it gets this. */
export class UpstreamUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UpstreamUnavailableError';
  }
}
