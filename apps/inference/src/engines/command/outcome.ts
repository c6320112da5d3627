import fs from 'node:fs/promises';
import { resample } from '../../audio/resample.ts';
import { decodeWav, downmix, encodeWav16 } from '../../audio/wav.ts';
import { EngineError, type EngineEmit, type EngineOutput } from '../../engine/engine.ts';
import { classifyCosyVoiceFailure } from '../cosyvoice/failure-classifier.ts';
import type { ExitStatus } from './process-group.ts';

/** What the engine knows about a finished command when it decides how the job ended. */
export interface CommandReport {
  /** The program, for messages. */
  program: string;
  exit: ExitStatus;
  stage: string | undefined;
  /** Tracebacks and recent messages, searched for CosyVoice's known failures. */
  diagnosticText: string;
  recentLines: string[];
  lastException: string | undefined;
}

const CRASH_HINT = 'Try again; if it keeps failing, an admin can read the command’s output in this job’s log.';

/**
 * Read the WAV the command wrote and return it as Chorus output: mono, 16-bit, at the
 * engine's output rate (resampled, with a warning, if the command wrote another rate), or
 * what is wrong with the file when there is no usable audio.
 */
export async function readCommandOutput(outputPath: string, targetRate: number, emit: EngineEmit): Promise<EngineOutput | { problem: string }> {
  let bytes: Uint8Array;
  try {
    bytes = await fs.readFile(outputPath);
  } catch {
    return { problem: 'no output file' };
  }
  if (bytes.length === 0) return { problem: 'an empty output file' };
  let decoded;
  try {
    decoded = decodeWav(bytes);
  } catch (err) {
    return { problem: `an unreadable WAV (${err instanceof Error ? err.message : String(err)})` };
  }
  let samples = downmix(decoded.channels);
  if (samples.length === 0) return { problem: 'a WAV without samples' };
  if (decoded.channels.length > 1) emit({ type: 'log', level: 'debug', message: `The command wrote ${decoded.channels.length} channels; mixed down to mono.` });
  if (decoded.sampleRate !== targetRate) {
    emit({
      type: 'log',
      level: 'warn',
      message: `The command wrote ${decoded.sampleRate} Hz audio but this engine is configured for ${targetRate} Hz; resampling. Set "sampleRate" in the engine configuration to the model's rate to avoid this.`,
    });
    samples = await resample(samples, decoded.sampleRate, targetRate);
  }
  return { wav: encodeWav16(samples, targetRate), sampleRate: targetRate, durationMs: (samples.length / targetRate) * 1000 };
}

function describeExit(exit: ExitStatus): string {
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

/** The error for a command that exited 0 but left no usable audio. */
export function noAudioError(report: CommandReport, problem: string): EngineError {
  const known = classifyCosyVoiceFailure(report.diagnosticText);
  if (known) return new EngineError(known.code, known.message, known.hint, report.stage);
  return new EngineError('ENGINE_CRASHED', `${report.program} exited 0 but wrote no audio (${problem}).`, CRASH_HINT, report.stage);
}

/**
 * The error for a command that failed: CosyVoice's known failures (GPU out of memory,
 * prompt rate/length, missing <|endofprompt|>) by their codes, anything else as
 * ENGINE_CRASHED with how it ended and its last exception line.
 */
export function failedExitError(report: CommandReport): EngineError {
  const known = classifyCosyVoiceFailure(report.diagnosticText);
  if (known) return new EngineError(known.code, known.message, known.hint, report.stage);
  const cause = report.lastException ?? report.recentLines.filter((l) => l.trim() !== '').at(-1)?.trim();
  const hint = report.exit.signal === 'SIGKILL' ? 'The process was killed from outside, often by the system when memory runs out. ' + CRASH_HINT : CRASH_HINT;
  return new EngineError('ENGINE_CRASHED', `${report.program} ${describeExit(report.exit)}${cause ? `: ${cause}` : ' without printing anything'}.`, hint, report.stage);
}

/** The log line with the command's last output that goes with an ENGINE_CRASHED error. */
export function lastLinesLog(report: CommandReport): string {
  const lines = report.recentLines;
  return lines.length > 0 ? `Last ${lines.length} line(s) of output from ${report.program}:\n${lines.join('\n')}` : `${report.program} printed nothing.`;
}
