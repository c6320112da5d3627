import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { EngineError, type EngineEvent, type EngineInput, type EngineOutput, type EngineRunContext } from '../../engine/engine.ts';
import type { CommandEngineConfig } from '../config.ts';
import { outputSampleRate } from '../cosyvoice/cosyvoice-info.ts';
import { CommandEventMapper } from './event-mapper.ts';
import { prepareJobFiles } from './job-document.ts';
import { failedExitError, lastLinesLog, noAudioError, readCommandOutput, type CommandReport } from './outcome.ts';
import { CommandOutputParser, type OutputStream } from './output-parser.ts';
import { SCRATCH_ENV } from './leftover-commands.ts';
import { GroupProcess, type ExitStatus } from './process-group.ts';

/** A traceback is held until the next stderr line shows whether a chained one follows; at most this long. */
const TRACEBACK_HOLD_MS = 200;
/** After the command exited and its group is gone, wait at most this long for the pipes to drain. */
const PIPE_DRAIN_MS = 2000;

/** Keeps track of every spawned command until it is gone, so the engine can close cleanly. */
export interface RunTracker {
  /** Register work that finishes when a command's processes are gone and its files removed. */
  track(done: Promise<void>): void;
}

export const commandCwd = (config: CommandEngineConfig): string => path.resolve(config.cwd ?? process.cwd());

/**
 * The environment of the spawned command: ours, then unbuffered UTF-8 Python output (so
 * progress streams as it happens; other programs ignore these), then the configured env.
 */
export const commandEnv = (config: CommandEngineConfig): NodeJS.ProcessEnv => ({
  ...process.env,
  PYTHONUNBUFFERED: '1',
  PYTHONIOENCODING: 'utf-8',
  ...config.env,
});

/** How messages name the command: the program, and its first argument unless that is an option ("python3 runner.py"). */
const programName = (config: CommandEngineConfig): string => {
  const [program, first] = config.command;
  return path.basename(program!) + (first && !first.startsWith('-') ? ` ${path.basename(first)}` : '');
};

function spawnError(config: CommandEngineConfig, cwd: string, err: unknown): EngineError {
  const code = (err as NodeJS.ErrnoException).code;
  const program = config.command[0]!;
  const hint = 'An admin should check "command" and "cwd" in the engine configuration: the program must exist and be executable on the worker machine.';
  if (code === 'ENOENT' && !fs.existsSync(cwd)) return new EngineError('ENGINE_UNAVAILABLE', `Cannot start ${program}: its working directory ${cwd} does not exist.`, hint);
  if (code === 'ENOENT') return new EngineError('ENGINE_UNAVAILABLE', `Cannot start ${program}: no such program (ENOENT).`, hint);
  if (code === 'EACCES') return new EngineError('ENGINE_UNAVAILABLE', `Cannot start ${program}: it is not executable (EACCES).`, hint);
  return new EngineError('ENGINE_UNAVAILABLE', `Cannot start ${program}: ${err instanceof Error ? err.message : String(err)}`, hint);
}

const canceled = (stage?: string): EngineError => new EngineError('CANCELED', 'The job was canceled.', undefined, stage);

type Ending = { kind: 'exit'; status: ExitStatus } | { kind: 'abort' } | { kind: 'timeout' };

/**
 * Run one job as a spawned command: write the prompt and the job document, stream the
 * command's output into events, and turn its exit into the WAV or a classified error.
 *
 * Cancel rejects at once with CANCELED while the process group is ended in the background
 * (SIGTERM, SIGKILL after killGraceMs); a timeout waits until the group is gone before it
 * rejects, so the slot is not reused while the old process still holds the GPU.
 */
export async function runCommandJob(config: CommandEngineConfig, scratchDir: string, tracker: RunTracker, input: EngineInput, ctx: EngineRunContext): Promise<EngineOutput> {
  const { signal } = ctx;
  if (signal.aborted) throw canceled();
  const files = await prepareJobFiles(config, scratchDir, input, ctx.seed);
  if (signal.aborted) {
    await files.remove();
    throw canceled();
  }

  // Events stop at the moment the run settles: a dying process must not add to a finished job.
  let settled = false;
  const emit = (event: EngineEvent): void => {
    if (settled) return;
    try {
      ctx.emit(event);
    } catch {
      // The listener's failure must not take the engine (or the process) down.
    }
  };
  const mapper = new CommandEventMapper(emit);
  const parser = new CommandOutputParser((item) => mapper.handle(item));

  const cwd = commandCwd(config);
  let proc: GroupProcess;
  try {
    // The scratch dir in the environment marks this Chorus's commands (and their children) for the start-up sweep.
    proc = await GroupProcess.start(config.command, { cwd, env: { ...commandEnv(config), [SCRATCH_ENV]: scratchDir } });
  } catch (err) {
    await files.remove();
    throw spawnError(config, cwd, err);
  }
  // The process is stopped, and then the scratch files removed, exactly once each.
  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= proc.alive || !proc.hasExited ? proc.terminate(config.killGraceMs) : Promise.race([proc.closed, sleep(PIPE_DRAIN_MS, undefined, { ref: false })]);
    return stopped;
  };
  let finished: Promise<void> | undefined;
  const finish = (): Promise<void> => {
    finished ??= stop().finally(() => files.remove());
    return finished;
  };

  let holdTimer: NodeJS.Timeout | undefined;
  const wire = (stream: OutputStream): void => {
    const readable = proc.child[stream]!;
    readable.setEncoding('utf8');
    readable.on('data', (chunk: string) => {
      parser.push(stream, chunk);
      if (stream === 'stderr') {
        clearTimeout(holdTimer);
        if (parser.hasPending) holdTimer = setTimeout(() => parser.flushPending(), TRACEBACK_HOLD_MS);
      }
    });
    readable.on('end', () => parser.end(stream));
  };
  wire('stdout');
  wire('stderr');
  proc.child.stdin!.on('error', () => undefined); // EPIPE if the program never reads its stdin
  proc.child.stdin!.end(`${JSON.stringify(files.document)}\n`);
  emit({ type: 'log', level: 'debug', message: `Started ${config.command.join(' ')} (pid ${proc.pid}).` });

  let timer: NodeJS.Timeout | undefined;
  let onAbort: (() => void) | undefined;
  let inBackground = false;
  const startedAt = Date.now();
  try {
    const ending = await new Promise<Ending>((resolve) => {
      void proc.exited.then((status) => resolve({ kind: 'exit', status }));
      onAbort = () => resolve({ kind: 'abort' });
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
      timer = setTimeout(() => resolve({ kind: 'timeout' }), config.timeoutMs);
    });

    if (ending.kind === 'abort') {
      // Reject now; the process group is ended (and the files removed) in the background.
      inBackground = true;
      throw canceled(mapper.currentStage);
    }
    if (ending.kind === 'timeout') {
      const stage = mapper.currentStage;
      emit({ type: 'log', level: 'warn', message: `${programName(config)} ran longer than ${formatDuration(config.timeoutMs)}; stopping it.` });
      await stop();
      throw new EngineError(
        'ENGINE_TIMEOUT',
        `The job took longer than this engine's limit of ${formatDuration(config.timeoutMs)} and was stopped.`,
        'Try a shorter text. If normal jobs hit this limit, an admin can raise "timeoutMs" for this engine (or the GPU is overloaded).',
        stage,
      );
    }

    // The command exited: make sure nothing of it lingers, then read everything it printed.
    await stop();
    clearTimeout(holdTimer);
    parser.end('stdout');
    parser.end('stderr');
    if (signal.aborted) throw canceled(mapper.currentStage);

    const status = ending.status;
    emit({
      type: 'log',
      level: 'debug',
      message: `${programName(config)} ${status.signal ? `was killed by ${status.signal}` : `exited with code ${status.code}`} after ${((Date.now() - startedAt) / 1000).toFixed(2)} s.`,
    });
    const report = (): CommandReport => ({
      program: programName(config),
      exit: status,
      stage: mapper.currentStage,
      diagnosticText: mapper.diagnosticText(),
      recentLines: mapper.recentLines(),
      lastException: mapper.lastException(),
    });
    if (status.code !== 0 || status.signal) {
      const error = failedExitError(report());
      if (error.code === 'ENGINE_CRASHED') emit({ type: 'log', level: 'error', message: lastLinesLog(report()) });
      throw error;
    }
    mapper.finish();
    const output = await readCommandOutput(files.outputPath, outputSampleRate(config), emit);
    if (signal.aborted) throw canceled(mapper.currentStage);
    if ('problem' in output) {
      const error = noAudioError(report(), output.problem);
      if (error.code === 'ENGINE_CRASHED') emit({ type: 'log', level: 'error', message: lastLinesLog(report()) });
      throw error;
    }
    return output;
  } finally {
    settled = true;
    clearTimeout(timer);
    clearTimeout(holdTimer);
    if (onAbort) signal.removeEventListener('abort', onAbort);
    // Normally the process is gone by now; after an unexpected error this still ends it.
    const done = finish();
    tracker.track(done);
    if (!inBackground) await done.catch(() => undefined);
  }
}

function formatDuration(ms: number): string {
  if (ms < 60_000) return `${Math.round(ms / 100) / 10} s`;
  const minutes = ms / 60_000;
  return Number.isInteger(minutes) ? `${minutes} min` : `${Math.round(minutes * 10) / 10} min`;
}
