/**
 * A PEP process's end: on the first SIGINT or SIGTERM, `close` (sessions told and ended, records
 * shipped), then exit. Later signals while closing are ignored, so a second Ctrl-C cannot cut
 * the records short.
 */
export function stopOnSignals(close: () => Promise<void>, onCloseError: (error: unknown) => void = () => undefined): void {
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void close().then(
      () => process.exit(0),
      (error: unknown) => {
        onCloseError(error);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
