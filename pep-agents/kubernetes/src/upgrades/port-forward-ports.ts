// The ports a port-forward may reach. They are decided before any stream opens: from the
// request's `ports=` query values when it names them (the WebSocket channel protocol requires
// it), or one by one as streams name them (kubectl over SPDY names them only in each stream's
// headers). A stream whose port header is not one of them is refused; no port is guessed.

/** The ports named by the query's `ports` values (each may list several, comma-separated); undefined when it names none. Throws for a value that is no port. */
export function queryPorts(rawQuery: string): readonly number[] | undefined {
  const values = new URLSearchParams(rawQuery).getAll('ports');
  if (values.length === 0) return undefined;
  const ports: number[] = [];
  for (const value of values) {
    for (const item of value.split(',')) {
      const port = portNumber(item);
      if (port === undefined) throw new RangeError(`the port ${JSON.stringify(item.slice(0, 32))} is not a port number`);
      if (!ports.includes(port)) ports.push(port);
    }
  }
  return ports;
}

/** A decimal port 1–65535, written plainly (no sign, no leading zero, no space), or undefined. */
export function portNumber(text: string): number | undefined {
  if (!/^[1-9][0-9]{0,4}$/.test(text)) return undefined;
  const port = Number(text);
  return port <= 65535 ? port : undefined;
}

/** The query of the action that decides one port the request did not name: the request's own query with `ports=N` added. */
export function queryWithPort(rawQuery: string, port: number): string {
  return rawQuery === '' ? `ports=${port}` : `${rawQuery}&ports=${port}`;
}
