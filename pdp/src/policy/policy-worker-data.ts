/** What a policy worker thread is started with. */
export interface PolicyWorkerData {
  /**
   * Linux niceness for the thread (0: as the process; 1–19: lower). A shadow's workers run
   * lower, so a saturated machine gives the live path the cores first.
   */
  readonly niceness: number;
  /** A batch reports what it has after this long of evaluating (the watchdog's progress, and early answers). */
  readonly answerSliceMicros: number;
}
