// parseurl (Express's and its router's URL parser) ships no declarations: the part the PDP uses.
declare module 'parseurl' {
  import type { IncomingMessage } from 'node:http';
  import type { Url } from 'node:url';

  /** The request's URL as the router reads it (memoised on the request); undefined without one. */
  function parseurl(request: IncomingMessage): Url | undefined;
  export default parseurl;
}
