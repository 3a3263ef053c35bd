/**
 * Where policy bundles come from. A source delivers whole bundle archives (tar.gz as
 * `opa build -t wasm` writes them); the loader verifies, parses and activates them.
 */
export interface BundleSource {
  /** Human-readable origin for /health and logs (never containing credentials). */
  readonly description: string;
  /**
   * Looks at the origin finished since start (polls, or checks of a watched folder after a
   * change), whatever they found: a count that stops growing is a source that is stuck.
   */
  readonly checks: number;
  /**
   * Starts delivering bundles. Resolves once the first bundle was delivered, or rejects when
   * the first attempt failed (the caller decides whether to keep running without policy).
   * Later failures go to `onError`; the source keeps trying.
   */
  start(onBundle: (archive: Buffer) => Promise<void>, onError: (error: Error) => void): Promise<void>;
  stop(): Promise<void>;
}
