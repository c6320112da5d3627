export interface JobFeed {
  /** Deliver job ids for these engines, at most `concurrency` at once per engine; the handler resolves when the run ended. */
  start(engines: { id: string; concurrency: number }[], handler: (jobId: string, engineId: string) => Promise<void>): Promise<void>;
  /** Stop taking new jobs for an engine (it went down) / take them again. */
  pause(engineId: string): Promise<void>;
  resume(engineId: string): Promise<void>;
  /** Ask for the abort of a job running here: listener gets the job id (from BullmqJobQueue.abortRunning). */
  onAbort(listener: (jobId: string) => void): () => void;
  /** Stop taking work; running handlers are awaited by the caller. */
  stop(): Promise<void>;
  /** Resolves once a stopped feed's handlers returned and its connections are closed. */
  closed(): Promise<void>;
}
