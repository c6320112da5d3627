import { EngineError, type Engine } from '../../engine/engine.ts';
import { loadEspeakData } from './espeak.ts';
import { BUILTIN_ENGINE_INFO } from './info.ts';
import { runSynthesisJob } from './synthesis-job.ts';
import { SynthesisWorkerPool } from './worker-pool.ts';

export interface BuiltinEngineOptions {
  /** Synthesis threads, i.e. jobs that can run at the same time (default 1). */
  workers?: number;
  /**
   * 'worker' (default): each job runs in a worker thread, so the caller's event loop
   * stays responsive and cancel stops work instantly. 'main-thread': run in the caller's
   * thread (diagnostics and benchmarks; blocks the event loop for up to ~0.5 s at a time).
   */
  thread?: 'worker' | 'main-thread';
}

/**
 * The built-in CPU engine: eSpeak-NG speech matched to a reference voice (or a preset
 * speaker). Resolves once the engine can run a job (worker threads started and eSpeak's
 * data loaded), so a broken install fails at startup rather than on the first job.
 */
export async function createBuiltinEngine(options: BuiltinEngineOptions = {}): Promise<Engine> {
  const info = structuredClone(BUILTIN_ENGINE_INFO);
  if ((options.thread ?? 'worker') === 'main-thread') {
    await loadEspeakData();
    return { info, run: (input, ctx) => runSynthesisJob(input, ctx) };
  }
  const pool = new SynthesisWorkerPool(options.workers ?? 1);
  try {
    await pool.warm();
  } catch (err) {
    await pool.close();
    throw new EngineError('ENGINE_UNAVAILABLE', `The built-in engine could not start its synthesis thread: ${err instanceof Error ? err.message : String(err)}`);
  }
  return {
    info,
    run: (input, ctx) => pool.run(input, ctx),
    close: () => pool.close(),
  };
}

export { BUILTIN_ENGINE_INFO, ENGINE_VERSION } from './info.ts';
export { PRETRAINED_SPEAKERS } from './speakers.ts';
