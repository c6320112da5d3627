import { Worker } from 'node:worker_threads';
import { EngineError, type EngineInput, type EngineOutput, type EngineRunContext } from '../../engine/engine.ts';
import { deserializeError, type FromWorker, type ToWorker } from './worker-protocol.ts';

const WORKER_ENTRY = new URL('./synth-worker-boot.mjs', import.meta.url);

interface Task {
  id: number;
  input: EngineInput;
  ctx: EngineRunContext;
  resolve(output: EngineOutput): void;
  reject(err: Error): void;
  settled: boolean;
  /** Last stage the worker reported, named in a cancel error. */
  stage?: string;
  detach(): void;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  task?: Task;
}

const canceled = (stage?: string): EngineError => new EngineError('CANCELED', 'The job was canceled.', undefined, stage);

/**
 * A fixed number of synthesis worker threads with a FIFO queue. Canceling a running job
 * terminates its thread (eSpeak cannot be interrupted mid-call), which stops the work at
 * once; a fresh thread replaces it. Idle threads are unref'd so they never keep the
 * process alive on their own.
 */
export class SynthesisWorkerPool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;

  constructor(private readonly size: number) {
    if (!Number.isInteger(size) || size < 1) throw new Error(`Worker count must be a positive integer, got ${size}.`);
  }

  /** Start every thread and wait until each has loaded eSpeak's data (fails fast if a thread cannot start). */
  async warm(): Promise<void> {
    while (this.slots.size < this.size) this.spawn();
    await Promise.all([...this.slots].map((s) => s.ready));
  }

  run(input: EngineInput, ctx: EngineRunContext): Promise<EngineOutput> {
    if (this.closed) return Promise.reject(new EngineError('ENGINE_CLOSED', 'The built-in engine has been shut down.'));
    if (ctx.signal.aborted) return Promise.reject(canceled());
    return new Promise<EngineOutput>((resolve, reject) => {
      const onAbort = (): void => this.cancel(task);
      const task: Task = {
        id: this.nextId++,
        input,
        ctx,
        settled: false,
        resolve: (output) => {
          if (task.settled) return;
          task.settled = true;
          task.detach();
          resolve(output);
        },
        reject: (err) => {
          if (task.settled) return;
          task.settled = true;
          task.detach();
          reject(err);
        },
        detach: () => ctx.signal.removeEventListener('abort', onAbort),
      };
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      this.queue.push(task);
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new EngineError('ENGINE_CLOSED', 'The built-in engine was shut down before the job started.'));
    const slots = [...this.slots];
    this.slots.clear();
    for (const slot of slots) slot.task?.reject(new EngineError('ENGINE_CLOSED', 'The built-in engine was shut down during the job.'));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private cancel(task: Task): void {
    this.abandon(task, canceled(task.stage));
  }

  /** Settle a task now and stop whatever its thread is doing. */
  private abandon(task: Task, err: Error): void {
    const queued = this.queue.indexOf(task);
    if (queued >= 0) this.queue.splice(queued, 1);
    const slot = [...this.slots].find((s) => s.task === task);
    task.reject(err);
    if (slot) {
      // Terminate rather than ask: a thread inside eSpeak only reads messages between calls.
      this.slots.delete(slot);
      void slot.worker.terminate();
      this.dispatch();
      // Keep a warm thread ready, so the next job does not wait for a cold start.
      if (!this.closed && this.slots.size < this.size) this.spawn();
    }
  }

  private spawn(): Slot {
    const worker = new Worker(WORKER_ENTRY);
    let markReady!: () => void;
    let failStart!: (err: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    // A failed start is reported to whoever awaits it (warm or a task); never unhandled.
    ready.catch(() => undefined);
    const slot: Slot = { worker, ready };
    this.slots.add(slot);
    worker.unref();

    worker.on('message', (message: FromWorker) => {
      if (message.type === 'ready') return markReady();
      const task = slot.task;
      if (!task || task.id !== message.id || task.settled) return;
      if (message.type === 'event') {
        if (message.event.type === 'stage') task.stage = message.event.name;
        try {
          task.ctx.emit(message.event);
        } catch (err) {
          // A throwing listener must not become an uncaught exception in the server.
          this.abandon(task, new EngineError('ENGINE_FAILED', `Event listener failed: ${err instanceof Error ? err.message : String(err)}`, undefined, task.stage));
        }
      } else {
        if (message.type === 'done') task.resolve(message.output);
        else task.reject(deserializeError(message.error));
        slot.task = undefined;
        worker.unref();
        this.dispatch();
      }
    });
    const fail = (err: Error): void => {
      failStart(err);
      if (!this.slots.delete(slot)) return; // terminated on purpose (cancel/close)
      slot.task?.reject(new EngineError('ENGINE_CRASHED', `The synthesis thread stopped unexpectedly: ${err.message}`, 'Try again; if it keeps failing, check the server log.'));
      slot.task = undefined;
      this.dispatch();
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    return slot;
  }

  private dispatch(): void {
    if (this.closed) return;
    while (this.queue.length > 0) {
      let slot = [...this.slots].find((s) => !s.task);
      if (!slot && this.slots.size < this.size) slot = this.spawn();
      if (!slot) return;
      const task = this.queue.shift()!;
      slot.task = task;
      slot.worker.ref();
      const current = slot;
      current.ready.then(
        () => {
          if (task.settled || current.task !== task) return;
          const message: ToWorker = { type: 'run', id: task.id, input: task.input, seed: task.ctx.seed };
          current.worker.postMessage(message);
        },
        (err: unknown) => task.reject(new EngineError('ENGINE_UNAVAILABLE', `The synthesis thread could not start: ${err instanceof Error ? err.message : String(err)}`)),
      );
    }
  }
}
