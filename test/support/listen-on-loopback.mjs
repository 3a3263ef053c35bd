// Preloaded (`node --import`) into a third-party server that listens on a port with no way to name
// the address: @modelcontextprotocol/server-everything's Streamable HTTP mode calls express's
// `app.listen(PORT)`, which binds every interface and takes no host option or variable. Services in
// tests listen on 127.0.0.1 only, so this fixes the address of the process's one listening socket
// before the server's own code runs, leaving that code as published. The port the server asked for
// (PORT=0: the kernel picks) is reported to the parent over the IPC channel once the socket is
// bound, which is the readiness signal: nothing has to guess a free port beforehand.
import { Server } from 'node:net';

const LOOPBACK = '127.0.0.1';
const bind = Server.prototype.listen;
let bound = false;

Server.prototype.listen = function listenOnLoopback(...args) {
  if (bound) throw new Error('listen-on-loopback: the server opened a second listening socket; refusing it');
  bound = true;
  const callback = typeof args.at(-1) === 'function' ? args.pop() : undefined;
  const [first] = args;
  // The forms a port-only server uses: listen(port[, cb]) and listen({ port }[, cb]). Any other
  // (a host of its own, a pipe, a handle) is refused rather than bound somewhere unchecked.
  let port;
  if (args.length === 1 && (typeof first === 'number' || (typeof first === 'string' && /^\d+$/.test(first)))) port = Number(first);
  else if (args.length === 1 && typeof first === 'object' && first !== null && first.host === undefined && first.path === undefined) port = Number(first.port ?? 0);
  else throw new Error(`listen-on-loopback: unexpected listen(${JSON.stringify(args)}); only a bare port is re-bound to ${LOOPBACK}`);
  this.once('listening', () => {
    const address = this.address();
    if (typeof address === 'object' && address !== null) process.send?.({ listening: { host: address.address, port: address.port } });
  });
  return bind.call(this, { port, host: LOOPBACK }, callback);
};
