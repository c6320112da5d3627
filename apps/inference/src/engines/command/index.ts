import { EngineError, type Engine, type EngineInput, type EngineOutput, type EngineRunContext } from '../../engine/engine.ts';
import type { CommandEngineConfig } from '../config.ts';
import { commandEngineInfo } from './info.ts';
import { probeCommand } from './probe.ts';
import { commandCwd, commandEnv, runCommandJob, type RunTracker } from './run.ts';

/**
 * The `command` engine: every job spawns `config.command` in its own process group, hands
 * it the job as one JSON document on stdin (see job-document.ts) and reads back a WAV
 * file. The program's output becomes job events as it streams: `@chorus {json}` lines,
 * tqdm bars, Python logging lines and tracebacks (see output-parser.ts, event-mapper.ts).
 * The reference program is apps/inference/runners/cosyvoice_runner.py.
 *
 * Several runs may go at once (the worker enforces `concurrency`); close() ends every
 * running command and waits until its processes are gone.
 */
export interface CommandEngineRuntime {
  /**
   * Where each job's scratch folder (the prompt WAV: a person's voice) goes: inside Chorus's
   * own data directory, never the shared temp dir, so start-up can clear what a kill left.
   */
  scratchDir: string;
}

export function createCommandEngine(config: CommandEngineConfig, runtime: CommandEngineRuntime): Engine {
  const info = commandEngineInfo(config);
  /** Aborts for the runs in flight, with their settled promises (close() waits for both). */
  const runs = new Map<AbortController, Promise<unknown>>();
  /** Process ends and scratch-file removals still under way. */
  const pending = new Set<Promise<void>>();
  let closed = false;
  const tracker: RunTracker = {
    track(done) {
      if (pending.has(done)) return;
      pending.add(done);
      void done.catch(() => undefined).finally(() => pending.delete(done));
    },
  };

  return {
    info,
    async run(input: EngineInput, ctx: EngineRunContext): Promise<EngineOutput> {
      if (closed) throw new EngineError('ENGINE_UNAVAILABLE', `Engine "${config.id}" is shutting down.`, 'Try again in a moment.');
      const own = new AbortController();
      const result = runCommandJob(config, runtime.scratchDir, tracker, input, { ...ctx, signal: AbortSignal.any([ctx.signal, own.signal]) });
      runs.set(own, result.catch(() => undefined));
      try {
        return await result;
      } finally {
        runs.delete(own);
      }
    },
    probe: (signal) => probeCommand(config.command, commandCwd(config), commandEnv(config), signal),
    async close() {
      closed = true;
      const inFlight = [...runs.entries()];
      for (const [abort] of inFlight) abort.abort();
      await Promise.all(inFlight.map(([, settled]) => settled));
      while (pending.size > 0) await Promise.all([...pending]);
    },
  };
}

export { COMMAND_ENGINE_STAGES, commandEngineInfo } from './info.ts';
export type { CommandJobDocument } from './job-document.ts';
