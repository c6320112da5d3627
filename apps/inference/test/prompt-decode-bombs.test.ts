/**
 * Decompression bombs: small files that decode to hours of audio, with headers that say
 * little or lie. Each must be refused as too long after decoding just past the limit —
 * asserted through what the decoder reports it did (samples decoded, bytes never fed),
 * not through timings. The bombs are generated here (helpers/audio-bombs.ts).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AudioInputError, DecodeBudgetExceeded, decodeAudioFile, newDecodeStats, probeAudioFile, type DecodeStats } from '../src/audio/decode.ts';
import type { PromptDecodeReport } from '../src/audio/prompt-decode-pool.ts';
import { checkPromptAudio, promptDecodeBudget, validatePromptAudio, type PromptLimits } from '../src/audio/prompt-validation.ts';
import { FIXTURES_DIR } from '../../server/test/helpers/audio.ts';
import { flacBomb, mp3Bomb, oggStream, opusBomb, opusHead, opusTags, vorbisBomb } from './helpers/audio-bombs.ts';

const limits: PromptLimits = { promptMinMs: 3000, promptMaxMs: 30_000, promptMinSampleRate: 16_000, promptPreferredSampleRate: 24_000 };
const budget = promptDecodeBudget(limits);

/** Frames the budget lets through (maxMs, i.e. 30.5 s). */
const stopFrames = (rate: number): number => (budget.maxMs * rate) / 1000;

const vorbisSource = (): Uint8Array => new Uint8Array(fs.readFileSync(path.join(FIXTURES_DIR, 'speech-22k-vorbis.ogg')));

/** The rejection of `p` (an AudioInputError) and the decoder report that came with it. */
async function refusedInWorker(bytes: Uint8Array): Promise<{ err: AudioInputError; report: PromptDecodeReport }> {
  let report: PromptDecodeReport | undefined;
  const err = await validatePromptAudio(bytes, limits, { onReport: (r) => (report = r) }).then(
    () => {
      throw new Error('expected a refusal');
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(AudioInputError);
  expect(report, 'the worker reports what it decoded').toBeDefined();
  return { err: err as AudioInputError, report: report! };
}

/**
 * The stream decoder stopped just past the limit — within one decoder call of it (at most
 * one Ogg page, ~12 s of Vorbis at 22 kHz; far less for the others), nowhere near the hour
 * the file holds — leaving almost all of the file unread.
 */
function expectStoppedEarly(stats: DecodeStats, fileBytes: number, rate: number): void {
  expect(stats.sampleRate).toBe(rate);
  expect(stats.framesDecoded).toBeGreaterThan(stopFrames(rate));
  expect(stats.framesDecoded).toBeLessThan(2 * stopFrames(rate));
  expect(stats.bytesFed + stats.bytesLeft).toBe(fileBytes);
  expect(stats.bytesLeft / fileBytes).toBeGreaterThan(0.9);
}

const TOO_LONG_MORE_THAN = /^The recording is too long: more than 30 s; a voice prompt must be between 3 and 30 s\./;

describe('the bomb generators make what they say (checked at a small size, fully decoded)', () => {
  it('FLAC: 2 min of 48 kHz stereo with no length in STREAMINFO', async () => {
    const bytes = flacBomb({ seconds: 120 });
    expect(probeAudioFile(bytes)).toMatchObject({ format: 'flac', sampleRate: 48_000, channelCount: 2, durationMs: null });
    const decoded = await decodeAudioFile(bytes);
    expect(decoded.channels).toHaveLength(2);
    expect(decoded.channels[0]!.length).toBe(120 * 48_000);
  });

  it('Opus: 2 min of packets behind granules that claim 5 s', async () => {
    const bytes = opusBomb({ seconds: 120, claimedSeconds: 5 });
    expect(probeAudioFile(bytes).durationMs).toBe(5000);
    const stats = newDecodeStats();
    await decodeAudioFile(bytes, undefined, stats);
    // End trimming cuts the final page (28 s of packets) back to its granule; the pages before it hold the rest.
    expect(stats.framesDecoded).toBeGreaterThan(90 * 48_000);
  });

  it('MP3: 2 min of 8 kb/s frames, and the variant whose frame walk stops at a "TAG" after 5 s', async () => {
    expect(probeAudioFile(mp3Bomb({ seconds: 120 })).durationMs! / 1000).toBeCloseTo(120, 0);
    const hidden = mp3Bomb({ seconds: 120, tagAfterSeconds: 5 });
    expect(probeAudioFile(hidden).durationMs! / 1000).toBeCloseTo(5, 0);
    const decoded = await decodeAudioFile(hidden);
    expect(decoded.channels[0]!.length / 24_000).toBeGreaterThan(119);
  });

  it('Vorbis: a real stream whose one-byte silent packet is repeated far past what the granules claim', async () => {
    const bytes = vorbisBomb(vorbisSource(), { packets: 6000, claimedSeconds: 5, packetIndex: 3 });
    expect(probeAudioFile(bytes).durationMs).toBe(5000);
    const stats = newDecodeStats();
    await decodeAudioFile(bytes, undefined, stats);
    expect(stats.framesDecoded / 22_050).toBeGreaterThan(100);
  });
});

describe('streaming decoder: stops at the budget, whatever the header says', () => {
  const cases = [
    { name: 'FLAC, total samples zeroed, 1 h of 48 kHz stereo', bytes: () => flacBomb({ seconds: 3600 }), rate: 48_000 },
    { name: 'FLAC, total samples zeroed, 3 h of 48 kHz stereo', bytes: () => flacBomb({ seconds: 3 * 3600 }), rate: 48_000 },
    { name: 'Ogg Opus, 1 h of packets, granules claim 5 s', bytes: () => opusBomb({ seconds: 3600, claimedSeconds: 5 }), rate: 48_000 },
    { name: 'MP3, 1 h at 8 kb/s', bytes: () => mp3Bomb({ seconds: 3600 }), rate: 24_000 },
    { name: 'Ogg Vorbis, ~1 h of packets, granules claim 5 s', bytes: () => vorbisBomb(vorbisSource(), { packets: 180_000, claimedSeconds: 5, packetIndex: 3 }), rate: 22_050 },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const bytes = c.bytes();
      const stats = newDecodeStats();
      const err = await decodeAudioFile(bytes, budget, stats).then(
        () => null,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(DecodeBudgetExceeded);
      expect((err as DecodeBudgetExceeded).limit).toBe('duration');
      expect((err as DecodeBudgetExceeded).code).toBe('TOO_LONG');
      expectStoppedEarly(stats, bytes.length, c.rate);
    });
  }

  it('a memory budget stops many-channel or high-rate audio before its length does', async () => {
    const bytes = flacBomb({ seconds: 20, channels: 8, sampleRate: 96_000, level: 900 });
    const stats = newDecodeStats();
    const tight = { maxMs: 60_000, maxDecodedBytes: 16 * 2 ** 20 };
    const err = await decodeAudioFile(bytes, tight, stats).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(DecodeBudgetExceeded);
    expect((err as DecodeBudgetExceeded).limit).toBe('memory');
    expect((err as DecodeBudgetExceeded).code).toBe('UNSUPPORTED_FORMAT');
    expect((err as Error).message).toMatch(/8 channels at 96000 Hz pass the 16 MB decoding limit/);
    // Stopped within one decoder call of the budget (≤ 256 K samples = 1 MB, plus a frame).
    expect(stats.framesDecoded * 8 * 4).toBeGreaterThan(tight.maxDecodedBytes);
    expect(stats.framesDecoded * 8 * 4).toBeLessThan(tight.maxDecodedBytes + 2 * 2 ** 20);
  });

  it('one FLAC decoder call never declares more than ~256 K samples (8-channel frames: under a second per call)', async () => {
    const bytes = flacBomb({ seconds: 60, channels: 8, sampleRate: 48_000 });
    const stats = newDecodeStats();
    await decodeAudioFile(bytes, { maxMs: 10_000, maxDecodedBytes: 2 ** 30 }, stats).catch(() => undefined);
    // 8 channels × 4096-sample frames: 8 frames (0.68 s) per call at most, so 10 s takes 15 calls or more.
    expect(stats.calls).toBeGreaterThanOrEqual(15);
    expect(stats.framesDecoded).toBeLessThan(10 * 48_000 + 2 ** 18 / 8 + 4096);
  });

  it('an Ogg page whose packets could not fit the memory budget is refused before it is decoded', async () => {
    // 255 packets of 120 ms: 30.6 s on one page, 5.6 MB of mono floats.
    const packets = new Array<Uint8Array>(255).fill(new Uint8Array([(31 << 3) | 3, 6]));
    const bytes = oggStream([
      { packets: [opusHead()], granule: 0, first: true },
      { packets: [opusTags()], granule: 0 },
      { packets, granule: 255 * 5760, last: true },
    ]);
    const stats = newDecodeStats();
    const err = await decodeAudioFile(bytes, { maxMs: 60_000, maxDecodedBytes: 4 * 2 ** 20 }, stats).then(
      () => null,
      (e: unknown) => e,
    );
    expect((err as DecodeBudgetExceeded).limit).toBe('memory');
    expect(stats.framesDecoded).toBe(0);
  });

  it('an Opus stream with more than 8 channels is unsupported, before decoding', async () => {
    const bytes = oggStream([
      { packets: [opusHead(12)], granule: 0, first: true },
      { packets: [opusTags()], granule: 0 },
      { packets: [new Uint8Array([(31 << 3) | 3, 6])], granule: 5760, last: true },
    ]);
    const err = await decodeAudioFile(bytes).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AudioInputError);
    expect((err as AudioInputError).code).toBe('UNSUPPORTED_FORMAT');
    expect((err as Error).message).toMatch(/12 channels; Chorus accepts up to 8/);
  });
});

describe('prompt validation (in the worker): bombs get the too-long refusal after ~30 s of decoding', () => {
  it('FLAC with a zeroed length, 1 h and 3 h of 48 kHz stereo', async () => {
    for (const hours of [1, 3]) {
      const bytes = flacBomb({ seconds: hours * 3600 });
      const { err, report } = await refusedInWorker(bytes);
      expect(err.code).toBe('TOO_LONG');
      expect(err.message).toMatch(TOO_LONG_MORE_THAN);
      expectStoppedEarly(report.stats, bytes.length, 48_000);
    }
  });

  it('Ogg Opus whose pages hold 1 h while its granules claim 5 s', async () => {
    const bytes = opusBomb({ seconds: 3600, claimedSeconds: 5 });
    const { err, report } = await refusedInWorker(bytes);
    expect(err.code).toBe('TOO_LONG');
    expect(err.message).toMatch(TOO_LONG_MORE_THAN);
    expectStoppedEarly(report.stats, bytes.length, 48_000);
  });

  it('Ogg Vorbis whose pages hold ~1 h while its granules claim 5 s', async () => {
    const bytes = vorbisBomb(vorbisSource(), { packets: 180_000, claimedSeconds: 5, packetIndex: 3 });
    const { err, report } = await refusedInWorker(bytes);
    expect(err.code).toBe('TOO_LONG');
    expectStoppedEarly(report.stats, bytes.length, 22_050);
  });

  it('MP3, 1 h at 8 kb/s: its frame walk already says 3600 s, so nothing is decoded', async () => {
    const { err, report } = await refusedInWorker(mp3Bomb({ seconds: 3600 }));
    expect(err.code).toBe('TOO_LONG');
    expect(err.message).toMatch(/too long: about 3600 s/);
    expect(report.stats.framesDecoded).toBe(0);
  });

  it('MP3, 1 h at 8 kb/s hidden behind a "TAG" after 5 s: decoding stops just past 30 s', async () => {
    const bytes = mp3Bomb({ seconds: 3600, tagAfterSeconds: 5 });
    expect(probeAudioFile(bytes).durationMs! / 1000).toBeCloseTo(5, 0);
    const { err, report } = await refusedInWorker(bytes);
    expect(err.code).toBe('TOO_LONG');
    expect(err.message).toMatch(TOO_LONG_MORE_THAN);
    expectStoppedEarly(report.stats, bytes.length, 24_000);
  });

  it('the decode budget keeps the exact limit: 29.9 s passes, 30.3 s is refused with its measured length', async () => {
    // A constant (DC) level is not silence; these are short of a bomb, decoded in full.
    const ok = await validatePromptAudio(flacBomb({ seconds: 29.9, level: 3000 }), limits);
    expect(ok.durationMs).toBe(29_900);
    const { err } = await refusedInWorker(flacBomb({ seconds: 30.3, level: 3000 }));
    expect(err.message).toMatch(/^The recording is too long: 30\.3 s; a voice prompt must be between 3 and 30 s/);
  });

  it('a header that agrees the file is too long is quoted: STREAMINFO says 45 s', async () => {
    const { err, report } = await refusedInWorker(flacBomb({ seconds: 45, declaredSamples: 45 * 48_000, level: 3000 }));
    expect(err.message).toMatch(/too long: about 45 s/);
    expect(report.stats.framesDecoded).toBeLessThan(2 * stopFrames(48_000));
  });

  it('checkPromptAudio (in process) gives the same refusal and stats', async () => {
    const bytes = flacBomb({ seconds: 3600 });
    const stats = newDecodeStats();
    const err = await checkPromptAudio(bytes, limits, stats).catch((e: unknown) => e);
    expect((err as AudioInputError).message).toMatch(TOO_LONG_MORE_THAN);
    expectStoppedEarly(stats, bytes.length, 48_000);
  });
});
