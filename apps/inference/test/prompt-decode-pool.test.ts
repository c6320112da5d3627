/**
 * The worker pool prompt uploads are decoded in: a worker that runs out of memory, hangs,
 * exits or throws becomes an AudioInputError for that file (never an exception of the
 * caller, never a stuck caller), the pool carries on with a fresh worker, no more than
 * `size` files are decoded at once, decoder library bugs become clear refusals, and what
 * the decoders print stays inside the worker.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { AudioInputError } from '../src/audio/audio-input-error.ts';
import { PromptDecodePool, type PromptDecodeReport } from '../src/audio/prompt-decode-pool.ts';
import { checkPromptAudio, validatePromptAudio, type PromptLimits } from '../src/audio/prompt-validation.ts';
import { FIXTURES_DIR } from '../../server/test/helpers/audio.ts';
import { fixOggCrcs, oggStream, opusHead, opusTags } from './helpers/audio-bombs.ts';

const limits: PromptLimits = { promptMinMs: 3000, promptMaxMs: 30_000, promptMinSampleRate: 16_000, promptPreferredSampleRate: 24_000 };
const STANDIN = new URL('./standins/misbehaving-decode-worker.mjs', import.meta.url);
const text = (s: string): Uint8Array => new TextEncoder().encode(s);

async function refusal(p: Promise<unknown>): Promise<AudioInputError> {
  const err = await p.then(
    () => new Error('expected a refusal'),
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AudioInputError);
  return err as AudioInputError;
}

describe('PromptDecodePool: a misbehaving worker is a refusal of that file', () => {
  const pool = new PromptDecodePool({ entry: STANDIN, size: 1, timeoutMs: 1500, heapMb: 48 });
  afterAll(() => pool.close());

  it('out of memory: UNDECODABLE saying so, and the next file gets a fresh worker', async () => {
    const err = await refusal(pool.run(text('oom'), limits));
    expect(err.code).toBe('UNDECODABLE');
    expect(err.message).toMatch(/^The file needed more memory to decode than an upload may use \(48 MB\)/);
    expect(err.message).toMatch(/Chorus accepts WAV/);
    expect((await refusal(pool.run(text('next'), limits))).message).toBe('stand-in saw "next"');
  });

  it('a hang: UNDECODABLE after the time limit, and the pool carries on', async () => {
    const err = await refusal(pool.run(text('hang'), limits));
    expect(err.message).toMatch(/^The file took longer than 2 s to decode and was given up on/);
    expect((await refusal(pool.run(text('after hang'), limits))).message).toBe('stand-in saw "after hang"');
  });

  it('the thread exits or throws: UNDECODABLE "stopped unexpectedly"', async () => {
    expect((await refusal(pool.run(text('exit'), limits))).message).toMatch(/^The audio decoder stopped unexpectedly on this file \(exit code 3\)/);
    expect((await refusal(pool.run(text('throw'), limits))).message).toMatch(/stopped unexpectedly on this file \(the stand-in decoder broke\)/);
    expect((await refusal(pool.run(text('still here'), limits))).message).toBe('stand-in saw "still here"');
  });

  it('a worker that cannot start is a server error, not a refusal of the file', async () => {
    const broken = new PromptDecodePool({ entry: new URL('./standins/no-such-worker.mjs', import.meta.url) });
    const err = await broken.run(text('x'), limits).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(AudioInputError);
    expect((err as Error).message).toMatch(/could not start/);
    await broken.close();
  });
});

describe('PromptDecodePool: concurrency cap', () => {
  it('decodes at most `size` files at once; the rest wait their turn', async () => {
    const pool = new PromptDecodePool({ entry: STANDIN, size: 2, timeoutMs: 20_000 });
    try {
      // Each "slow" file blocks its worker for 300 ms and answers with [start, end].
      const answers = await Promise.all(Array.from({ length: 6 }, () => refusal(pool.run(text('slow'), limits))));
      const spans = answers.map((a) => a.message.split(' ').map(Number) as [number, number]);
      const overlapAt = (t: number): number => spans.filter(([s, e]) => s <= t && t < e).length;
      const most = Math.max(...spans.map(([s]) => overlapAt(s)));
      expect(most).toBeLessThanOrEqual(2);
      expect(most).toBeGreaterThanOrEqual(1);
    } finally {
      await pool.close();
    }
  });
});

describe('the real decode worker', () => {
  afterEach(() => vi.restoreAllMocks());

  it('a Vorbis identification header with version 1 hits codec-parser\'s "logError is not defined": a clear 400-style refusal', async () => {
    const bytes = new Uint8Array(fs.readFileSync(path.join(FIXTURES_DIR, 'speech-22k-vorbis.ogg'))).slice();
    bytes[27 + bytes[26]! + 7] = 1; // vorbis_version, first byte
    const err = await refusal(validatePromptAudio(fixOggCrcs(bytes), limits));
    expect(err.code).toBe('UNDECODABLE');
    expect(err.message).toMatch(/^The OGG file is damaged or malformed: the decoder could not read it \(ReferenceError: logError is not defined\)/);
    expect(err.message).toMatch(/Chorus accepts WAV \(PCM 16\/24\/32-bit or float\), FLAC, MP3, OGG \(Opus or Vorbis\)/);
  });

  it('an OpusHead with version 2 hits a TypeError inside ogg-opus-decoder: a clear refusal', async () => {
    const head = opusHead();
    head[8] = 2;
    const bytes = oggStream([
      { packets: [head], granule: 0, first: true },
      { packets: [opusTags()], granule: 0 },
      { packets: [new Uint8Array([(31 << 3) | 3, 6])], granule: 5760, last: true },
    ]);
    const err = await refusal(validatePromptAudio(bytes, limits));
    expect(err.code).toBe('UNDECODABLE');
    expect(err.message).toMatch(/could not read it \(TypeError: /);
  });

  it("the decoders' console output is swallowed in the worker and summarised in the report", async () => {
    // 255 invalid Opus packets (code 3, zero frames): libopus refuses each, and
    // opus-decoder prints one console.error line per packet.
    const bytes = oggStream([
      { packets: [opusHead()], granule: 0, first: true },
      { packets: [opusTags()], granule: 0 },
      { packets: new Array<Uint8Array>(255).fill(new Uint8Array([(31 << 3) | 3, 0])), granule: 5760, last: true },
    ]);
    // In this thread the same file does print: the test would see a flood if the worker leaked it.
    const inProcess = vi.spyOn(console, 'error').mockImplementation(() => undefined);
    expect((await refusal(checkPromptAudio(bytes, limits))).message).toMatch(/255 frames could not be decoded \(libopus -4 OPUS_INVALID_PACKET/);
    expect(inProcess.mock.calls.length).toBeGreaterThanOrEqual(255);
    inProcess.mockClear();

    const stderr = vi.spyOn(process.stderr, 'write');
    const stdout = vi.spyOn(process.stdout, 'write');
    let report: PromptDecodeReport | undefined;
    const err = await refusal(validatePromptAudio(bytes, limits, { onReport: (r) => (report = r) }));
    expect(err.message).toMatch(/OPUS_INVALID_PACKET/);
    // Give any stray worker output a moment to arrive.
    await new Promise((r) => setTimeout(r, 100));
    expect(inProcess).not.toHaveBeenCalled();
    expect(stderr.mock.calls.filter(([chunk]) => String(chunk).includes('libopus'))).toEqual([]);
    expect(stdout.mock.calls.filter(([chunk]) => String(chunk).includes('libopus'))).toEqual([]);
    expect(report!.decoderOutput.lines).toBeGreaterThanOrEqual(255);
    expect(report!.decoderOutput.first).toMatch(/^libopus -4 OPUS_INVALID_PACKET/);
  });
});
