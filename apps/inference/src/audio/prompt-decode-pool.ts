/**
 * A small pool of worker threads that check prompt uploads (decode + measure), so that a
 * decoder never runs on the server's main thread. Each worker has a V8 heap limit, each
 * file a time limit, and at most `size` files are decoded at once (the rest wait in FIFO
 * order), so parallel uploads cannot add up to more than size × (decode budget + heap).
 * A worker that runs out of memory, crashes or overruns its time is terminated and its
 * file refused as UNDECODABLE; a fresh worker takes the next file.
 */
import { Worker } from 'node:worker_threads';
import { ACCEPTED_AUDIO_FORMATS, AudioInputError } from './audio-input-error.ts';
import type { DecodeRequest, DecodeResponse, PromptDecodeReport } from './prompt-decode-protocol.ts';
import { PROMPT_MAX_DECODED_BYTES, type PromptLimits, type ValidatedPromptAudio } from './prompt-validation.ts';

export type { PromptDecodeReport, SwallowedOutput } from './prompt-decode-protocol.ts';

const WORKER_ENTRY = new URL('./prompt-decode-worker-boot.mjs', import.meta.url);

export interface PromptDecodePoolOptions {
  /** Files decoded at once (one worker thread each). Default 2. */
  size?: number;
  /** Wall-clock limit per file, worker start-up included, ms. Default 15 s. */
  timeoutMs?: number;
  /** V8 heap limit per worker, MB. Decoded samples live outside it, bounded by maxDecodedBytes. Default 256. */
  heapMb?: number;
  /** Decoded float samples one file may occupy. Default PROMPT_MAX_DECODED_BYTES (64 MB). */
  maxDecodedBytes?: number;
  /** An idle worker is stopped after this long, ms. Default 60 s. */
  idleMs?: number;
  /** A worker is replaced after this many files (WASM heaps never shrink). Default 50. */
  maxTasksPerWorker?: number;
  /** Worker entry point (tests substitute misbehaving workers). */
  entry?: URL;
}

interface Task {
  id: number;
  bytes: Uint8Array;
  limits: PromptLimits;
  onReport?: (report: PromptDecodeReport) => void;
  resolve(result: ValidatedPromptAudio): void;
  reject(err: Error): void;
  timer?: NodeJS.Timeout;
}

interface Slot {
  worker: Worker;
  ready: Promise<void>;
  task?: Task;
  /** The worker said it is ready: a death after this is the file's doing. */
  started: boolean;
  tasksDone: number;
  idleTimer?: NodeJS.Timeout;
}

const refusal = (message: string): AudioInputError => new AudioInputError('UNDECODABLE', `${message} Export it again; Chorus accepts ${ACCEPTED_AUDIO_FORMATS}.`);

export class PromptDecodePool {
  private readonly slots = new Set<Slot>();
  private readonly queue: Task[] = [];
  private nextId = 1;
  private closed = false;
  private readonly size: number;
  private readonly timeoutMs: number;
  private readonly heapMb: number;
  private readonly maxDecodedBytes: number;
  private readonly idleMs: number;
  private readonly maxTasksPerWorker: number;
  private readonly entry: URL;

  constructor(options: PromptDecodePoolOptions = {}) {
    this.size = options.size ?? 2;
    this.timeoutMs = options.timeoutMs ?? 15_000;
    this.heapMb = options.heapMb ?? 256;
    this.maxDecodedBytes = options.maxDecodedBytes ?? PROMPT_MAX_DECODED_BYTES;
    this.idleMs = options.idleMs ?? 60_000;
    this.maxTasksPerWorker = options.maxTasksPerWorker ?? 50;
    this.entry = options.entry ?? WORKER_ENTRY;
    if (!Number.isInteger(this.size) || this.size < 1) throw new Error(`Decode worker count must be a positive integer, got ${this.size}.`);
  }

  /** Decode and check one file in a worker; rejects with AudioInputError for anything about the file. */
  run(bytes: Uint8Array, limits: PromptLimits, onReport?: (report: PromptDecodeReport) => void): Promise<ValidatedPromptAudio> {
    if (this.closed) return Promise.reject(new Error('The prompt decode pool has been shut down.'));
    return new Promise<ValidatedPromptAudio>((resolve, reject) => {
      // A private copy, transferred to the worker: the caller keeps (and stores) its bytes.
      this.queue.push({ id: this.nextId++, bytes: bytes.slice(), limits: { ...limits }, onReport, resolve, reject });
      this.dispatch();
    });
  }

  /** Start one worker ahead of the first upload (it takes a few hundred ms to load). */
  async warm(): Promise<void> {
    const slot = [...this.slots][0] ?? this.spawn();
    await slot.ready;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const task of this.queue.splice(0)) task.reject(new Error('The prompt decode pool was shut down before the file was checked.'));
    const slots = [...this.slots];
    this.slots.clear();
    for (const slot of slots) this.settle(slot, (t) => t.reject(new Error('The prompt decode pool was shut down while checking the file.')));
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }

  private dispatch(): void {
    while (!this.closed && this.queue.length > 0) {
      let slot = [...this.slots].find((s) => !s.task);
      if (!slot && this.slots.size < this.size) slot = this.spawn();
      if (!slot) return;
      this.start(slot, this.queue.shift()!);
    }
  }

  private start(slot: Slot, task: Task): void {
    clearTimeout(slot.idleTimer);
    slot.task = task;
    slot.worker.ref();
    task.timer = setTimeout(() => {
      this.retire(slot);
      this.settle(slot, (t) => t.reject(refusal(`The file took longer than ${Math.round(this.timeoutMs / 1000)} s to decode and was given up on; it may be damaged or crafted.`)));
    }, this.timeoutMs);
    slot.ready.then(
      () => {
        if (slot.task !== task) return;
        const request: DecodeRequest = { id: task.id, bytes: task.bytes, limits: task.limits, maxDecodedBytes: this.maxDecodedBytes };
        slot.worker.postMessage(request, [task.bytes.buffer as ArrayBuffer]);
      },
      (err: unknown) => {
        // The thread never came up: a server problem, not the file's (a 500, not a refusal).
        this.settle(slot, (t) => t.reject(new Error(`The audio decoding thread could not start: ${err instanceof Error ? err.message : String(err)}`)));
      },
    );
  }

  /** Finish the slot's task (once), free the slot and move on to the next file. */
  private settle(slot: Slot, finish: (task: Task) => void): void {
    const task = slot.task;
    if (!task) return;
    clearTimeout(task.timer);
    slot.task = undefined;
    finish(task);
    if (this.slots.has(slot)) {
      slot.tasksDone++;
      if (slot.tasksDone >= this.maxTasksPerWorker) this.retire(slot);
      else this.idle(slot);
    }
    this.dispatch();
  }

  private idle(slot: Slot): void {
    slot.worker.unref();
    clearTimeout(slot.idleTimer);
    slot.idleTimer = setTimeout(() => {
      if (!slot.task) this.retire(slot);
    }, this.idleMs);
    slot.idleTimer.unref();
  }

  /** Take a worker out of the pool and stop it. */
  private retire(slot: Slot): void {
    if (!this.slots.delete(slot)) return;
    clearTimeout(slot.idleTimer);
    void slot.worker.terminate();
  }

  private spawn(): Slot {
    const worker = new Worker(this.entry, {
      resourceLimits: { maxOldGenerationSizeMb: this.heapMb, maxYoungGenerationSizeMb: 8, stackSizeMb: 4 },
      // Nothing the decoders print may reach the server's output (the worker also silences its console).
      stdout: true,
      stderr: true,
    });
    worker.stdout.resume();
    worker.stderr.resume();
    let markReady!: () => void;
    let failStart!: (err: Error) => void;
    const ready = new Promise<void>((resolve, reject) => {
      markReady = resolve;
      failStart = reject;
    });
    ready.catch(() => undefined); // reported to the task waiting for it, never unhandled
    const slot: Slot = { worker, ready, started: false, tasksDone: 0 };
    this.slots.add(slot);
    worker.unref();

    worker.on('message', (message: DecodeResponse) => {
      if (message.type === 'ready') {
        slot.started = true;
        return markReady();
      }
      const task = slot.task;
      if (!task || task.id !== message.id) return;
      try {
        task.onReport?.(message.report);
      } catch {
        // A failing report listener must not lose the answer.
      }
      if (message.type === 'done') this.settle(slot, (t) => t.resolve(message.result));
      else this.settle(slot, (t) => t.reject(new AudioInputError(message.error.code, message.error.message)));
    });
    const fail = (err: Error): void => {
      failStart(err);
      const wasInPool = this.slots.delete(slot);
      clearTimeout(slot.idleTimer);
      // Retired on purpose, or never started (the waiting task hears that through `ready`).
      if ((!wasInPool && !slot.task) || !slot.started) return;
      const outOfMemory = (err as NodeJS.ErrnoException).code === 'ERR_WORKER_OUT_OF_MEMORY';
      this.settle(slot, (t) =>
        t.reject(
          outOfMemory
            ? refusal(`The file needed more memory to decode than an upload may use (${this.heapMb} MB); it may be damaged or crafted.`)
            : refusal(`The audio decoder stopped unexpectedly on this file (${err.message}); it may be damaged.`),
        ),
      );
    };
    worker.on('error', fail);
    worker.on('exit', (code) => fail(new Error(`exit code ${code}`)));
    return slot;
  }
}

let shared: PromptDecodePool | null = null;

/** The process-wide pool validatePromptAudio uses, created on first use. */
export function sharedPromptDecodePool(): PromptDecodePool {
  shared ??= new PromptDecodePool();
  return shared;
}
