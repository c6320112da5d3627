/// <reference path="../../types/wasm-modules.d.ts" />
// (Declarations for the untyped WASM packages; referenced so dependents' type checks see them too.)
import EspeakInit, { type ESpeakNGWorker, type EspeakModule } from '@echogarden/espeak-ng-emscripten';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

/** eSpeak-NG release compiled into @echogarden/espeak-ng-emscripten 0.3.5. */
export const ESPEAK_NG_VERSION = '1.52';
/** Rate of the PCM eSpeak produces. */
export const ESPEAK_SAMPLE_RATE = 22050;

export interface EspeakSettings {
  /** Voice name with optional variant, e.g. 'cmn', 'en-us+f3'. */
  voice: string;
  /** Words per minute, 80–450. */
  rate: number;
  /** 0–99, 50 = voice default. */
  pitch: number;
  /** Intonation range 0–99, 50 = voice default. */
  range: number;
}

let dataPromise: Promise<ArrayBuffer> | undefined;

/**
 * The 24 MB voice/dictionary package, read once per thread. It is handed to every fresh
 * module through `getPreloadedPackage` (the module copies it into its own file system,
 * so one buffer serves any number of instances).
 */
export function loadEspeakData(): Promise<ArrayBuffer> {
  dataPromise ??= (async () => {
    // createRequire resolves the package under tsx, vitest and plain node alike
    // (vitest does not provide import.meta.resolve).
    const entry = createRequire(import.meta.url).resolve('@echogarden/espeak-ng-emscripten');
    const bytes = await readFile(join(dirname(entry), 'espeak-ng.data'));
    // A file this large gets its own ArrayBuffer; only copy if it is a view into a shared one.
    const whole = bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength;
    return (whole ? bytes.buffer : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)) as ArrayBuffer;
  })();
  dataPromise.catch(() => {
    dataPromise = undefined;
  });
  return dataPromise;
}

/** eSpeak parses its input as SSML, so markup characters in user text must be escaped. */
export function escapeSsml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

const clampInt = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, Math.round(v)));

/**
 * eSpeak seeds its C `rand()` from the wall clock (`time()`, read once when the worker
 * object is constructed). The noise it drives is audible in voices with breathiness, such
 * as the female `+f3` variants, so without this their output changed from second to
 * second. The clock is pinned to a value derived from the job's seed for the duration of
 * that one synchronous constructor call: no other code can run meanwhile.
 */
function constructSeeded(module: EspeakModule, noiseSeed: number): ESpeakNGWorker {
  const realNow = Date.now;
  Date.now = () => (noiseSeed >>> 0) * 1000;
  try {
    return new module.eSpeakNGWorker();
  } finally {
    Date.now = realNow;
  }
}

/**
 * One freshly initialised eSpeak-NG instance. A module's output depends on everything it
 * synthesised before (internal state), so each job opens its own session: the same
 * sequence of calls on a fresh session with the same noise seed gives byte-identical audio.
 */
export class EspeakSession {
  private voice: string | undefined;

  private constructor(private readonly worker: ESpeakNGWorker) {}

  static async open(noiseSeed: number, data?: ArrayBuffer): Promise<EspeakSession> {
    const buffer = data ?? (await loadEspeakData());
    const module = await EspeakInit({ getPreloadedPackage: () => buffer });
    return new EspeakSession(constructSeeded(module, noiseSeed));
  }

  /** Synthesize one piece of text; returns float samples at ESPEAK_SAMPLE_RATE. */
  synthesize(text: string, settings: EspeakSettings): Float32Array {
    if (settings.voice !== this.voice) {
      const code = this.worker.set_voice(settings.voice);
      if (code !== 0) throw new Error(`eSpeak-NG has no voice "${settings.voice}" (code ${code}).`);
      this.voice = settings.voice;
    }
    this.worker.set_rate(clampInt(settings.rate, 80, 450));
    this.worker.set_pitch(clampInt(settings.pitch, 0, 99));
    this.worker.set_range(clampInt(settings.range, 0, 99));
    const chunks: Int16Array[] = [];
    let length = 0;
    this.worker.synthesize(escapeSsml(text), (samples) => {
      chunks.push(samples);
      length += samples.length;
      return false;
    });
    const out = new Float32Array(length);
    let offset = 0;
    for (const chunk of chunks) {
      for (let i = 0; i < chunk.length; i++) out[offset + i] = chunk[i]! / 32768;
      offset += chunk.length;
    }
    return out;
  }
}
