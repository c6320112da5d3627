import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ACCEPTED_AUDIO_FORMATS, AudioInputError, decodeAudioFile, probeAudioFile } from '../src/audio/decode.ts';
import { validatePromptAudio, type PromptLimits } from '../src/audio/prompt-validation.ts';
import { FIXTURES_DIR, makeWav, voicedSignal, voicedWav, type WavSampleFormat } from '../../server/test/helpers/audio.ts';

const limits: PromptLimits = { promptMinMs: 3000, promptMaxMs: 30_000, promptMinSampleRate: 16_000, promptPreferredSampleRate: 24_000 };

const fixture = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(FIXTURES_DIR, name)));

/** The AudioInputError a promise rejects with. */
async function rejection(p: Promise<unknown>): Promise<AudioInputError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(AudioInputError);
    return err as AudioInputError;
  }
  throw new Error('expected a rejection');
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i]! - b[i]!));
  return d;
}

describe('decodeAudioFile: WAV sample formats', () => {
  const source = voicedSignal({ sampleRate: 24_000, seconds: 1 });
  const cases: [WavSampleFormat, boolean, number][] = [
    ['pcm8', false, 2 / 127],
    ['pcm16', false, 2 / 32767],
    ['pcm16', true, 2 / 32767],
    ['pcm24', false, 1e-6],
    ['pcm24', true, 1e-6],
    ['pcm32', false, 1e-6],
    ['float32', false, 1e-7],
    ['float32', true, 1e-7],
    ['float64', false, 1e-7],
  ];
  for (const [format, extensible, tolerance] of cases) {
    it(`${format}${extensible ? ' (WAVE_FORMAT_EXTENSIBLE)' : ''}`, async () => {
      const decoded = await decodeAudioFile(makeWav([source], { sampleRate: 24_000, format, extensible }));
      expect(decoded.format).toBe('wav');
      expect(decoded.codec).toBe(format);
      expect(decoded.sampleRate).toBe(24_000);
      expect(decoded.channelCount).toBe(1);
      expect(maxDiff(decoded.channels[0]!, source)).toBeLessThanOrEqual(tolerance);
    });
  }

  it('keeps stereo channels apart and validation downmixes them', async () => {
    const left = voicedSignal({ sampleRate: 24_000, seconds: 4 });
    const right = left.map((x) => -0.5 * x);
    const wav = makeWav([left, right], { sampleRate: 24_000, format: 'pcm24' });
    const decoded = await decodeAudioFile(wav);
    expect(decoded.channelCount).toBe(2);
    expect(maxDiff(decoded.channels[1]!, right)).toBeLessThan(1e-6);
    const checked = await validatePromptAudio(wav, limits);
    expect(checked.channels).toBe(2);
    expect(maxDiff(checked.samples, left.map((x) => 0.25 * x))).toBeLessThan(1e-6);
  });

  it('reads a file whose data size was left as "unknown" by a streaming writer', async () => {
    const wav = voicedWav({ sampleRate: 16_000, seconds: 1 });
    const dataSizeAt = wav.length - 16_000 * 2 - 4;
    new DataView(wav.buffer, wav.byteOffset).setUint32(dataSizeAt, 0xffffffff, true);
    const decoded = await decodeAudioFile(wav);
    expect(decoded.channels[0]!.length).toBe(16_000);
  });
});

describe('decodeAudioFile: compressed formats (committed fixtures)', () => {
  const cases = [
    { file: 'speech-16k.flac', format: 'flac', codec: 'flac', sampleRate: 16_000, channels: 1, seconds: 3.19 },
    { file: 'speech-24k-mono.mp3', format: 'mp3', codec: 'mp3', sampleRate: 24_000, channels: 1, seconds: 4.305 },
    { file: 'speech-44k-stereo.mp3', format: 'mp3', codec: 'mp3', sampleRate: 44_100, channels: 2, seconds: 4.305 },
    { file: 'speech-48k.opus', format: 'ogg', codec: 'opus', sampleRate: 48_000, channels: 1, seconds: 4.305 },
    { file: 'speech-22k-vorbis.ogg', format: 'ogg', codec: 'vorbis', sampleRate: 22_050, channels: 1, seconds: 4.305 },
  ] as const;
  for (const c of cases) {
    it(`${c.file}: ${c.format}/${c.codec}, ${c.sampleRate} Hz, ${c.channels} ch`, async () => {
      const bytes = fixture(c.file);
      const probe = probeAudioFile(bytes);
      expect(probe).toMatchObject({ format: c.format, codec: c.codec, sampleRate: c.sampleRate, channelCount: c.channels });
      expect(probe.durationMs! / 1000).toBeCloseTo(c.seconds, 0);
      const decoded = await decodeAudioFile(bytes);
      expect(decoded).toMatchObject({ format: c.format, codec: c.codec, sampleRate: c.sampleRate, channelCount: c.channels });
      expect(decoded.channels).toHaveLength(c.channels);
      expect(decoded.channels[0]!.length / c.sampleRate).toBeCloseTo(c.seconds, 1);
      const checked = await validatePromptAudio(bytes, limits);
      expect(checked.peakDbfs).toBeGreaterThan(-6);
      expect(checked.speechRmsDbfs).toBeGreaterThan(-30);
      expect(checked.warnings.map((w) => w.code)).toEqual(c.sampleRate < 24_000 ? ['LOW_SAMPLE_RATE'] : []);
    });
  }

  it('reads a FLAC file that a tagger prefixed with an ID3 tag', async () => {
    const flac = fixture('speech-16k.flac');
    const id3 = new Uint8Array([0x49, 0x44, 0x33, 4, 0, 0, 0, 0, 0, 20, ...new Uint8Array(20)]);
    const decoded = await decodeAudioFile(new Uint8Array([...id3, ...flac]));
    expect(decoded).toMatchObject({ format: 'flac', sampleRate: 16_000, channelCount: 1 });
    expect(decoded.channels[0]).toHaveLength(51_036);
  });

  it('finds the codec by content, not by name: the WebM the browser records is refused with advice', async () => {
    const err = await rejection(decodeAudioFile(fixture('browser-recording.webm')));
    expect(err.code).toBe('UNSUPPORTED_FORMAT');
    expect(err.message).toMatch(/WebM/);
    expect(err.message).toMatch(/converts recordings to WAV/);
    expect(err.message).toContain(ACCEPTED_AUDIO_FORMATS);
  });
});

describe('decodeAudioFile: refusals', () => {
  it('empty input', async () => {
    expect((await rejection(decodeAudioFile(new Uint8Array(0)))).code).toBe('EMPTY_FILE');
  });

  it('a text file, an MP4 header and random bytes are unsupported and the message lists what is accepted', async () => {
    const text = new TextEncoder().encode('hello, this is not audio\n'.repeat(20));
    const mp4 = new Uint8Array([0, 0, 0, 0x20, ...new TextEncoder().encode('ftypM4A '), ...new Uint8Array(64)]);
    const random = new Uint8Array(4096).map((_, i) => (i * 7919 + 13) % 251);
    for (const [bytes, words] of [
      [text, /text file/],
      [mp4, /MP4\/M4A/],
      [random, /not in a recognised audio format/],
    ] as const) {
      const err = await rejection(decodeAudioFile(bytes));
      expect(err.code).toBe('UNSUPPORTED_FORMAT');
      expect(err.message).toMatch(words);
      expect(err.message).toContain('WAV (PCM 16/24/32-bit or float), FLAC, MP3, OGG (Opus or Vorbis)');
    }
  });

  it('a compressed (ADPCM) WAV is unsupported and says so', async () => {
    const wav = voicedWav({ sampleRate: 16_000, seconds: 1 });
    new DataView(wav.buffer, wav.byteOffset).setUint16(20, 2, true);
    const err = await rejection(decodeAudioFile(wav));
    expect(err.code).toBe('UNSUPPORTED_FORMAT');
    expect(err.message).toMatch(/Microsoft ADPCM/);
  });

  it('a truncated WAV says how much audio the header promised and how much is there', async () => {
    const wav = voicedWav({ sampleRate: 16_000, seconds: 4 });
    const cut = wav.subarray(0, 44 + 50_000);
    const err = await rejection(decodeAudioFile(cut));
    expect(err.code).toBe('UNDECODABLE');
    expect(err.message).toBe('The WAV file is truncated: header says 128000 bytes of audio, only 50000 present.');
  });

  it('a WAV cut inside its header, and one without a data chunk', async () => {
    const wav = voicedWav({ sampleRate: 16_000, seconds: 1 });
    expect((await rejection(decodeAudioFile(wav.subarray(0, 8)))).message).toMatch(/truncated/);
    expect((await rejection(decodeAudioFile(wav.subarray(0, 30)))).message).toMatch(/truncated: it ends inside its format header/);
    expect((await rejection(decodeAudioFile(wav.subarray(0, 36)))).message).toMatch(/"data" chunk is missing/);
  });

  it('truncated FLAC, MP3 and OGG files are undecodable with a reason', async () => {
    const half = (name: string): Uint8Array => {
      const b = fixture(name);
      return b.subarray(0, Math.floor(b.length / 2));
    };
    const flac = await rejection(decodeAudioFile(half('speech-16k.flac')));
    expect(flac.code).toBe('UNDECODABLE');
    expect(flac.message).toMatch(/^The FLAC file is truncated: header says 3\.2 s of audio/);
    const mp3 = await rejection(decodeAudioFile(half('speech-24k-mono.mp3')));
    expect(mp3.code).toBe('UNDECODABLE');
    expect(mp3.message).toMatch(/^The MP3 file is truncated: header says 4\.\d s of audio, only 2\.\d s present/);
    for (const name of ['speech-48k.opus', 'speech-22k-vorbis.ogg']) {
      const ogg = await rejection(decodeAudioFile(half(name)));
      expect(ogg.code).toBe('UNDECODABLE');
      expect(ogg.message).toMatch(/^The OGG file is truncated: page \d+ needs \d+ bytes, only \d+ present/);
    }
  });

  it('a damaged Ogg stream is refused, not decoded into noise', async () => {
    const bytes = fixture('speech-48k.opus').slice();
    for (let i = 4000; i < 4100; i++) bytes[i] = 0x55;
    const err = await rejection(decodeAudioFile(bytes));
    expect(err.code).toBe('UNDECODABLE');
    expect(err.message).toMatch(/^The OGG file is damaged: page \d+ \(at byte \d+\) fails its checksum/);
  });
});

describe('validatePromptAudio', () => {
  it('accepts clean speech-like audio at the preferred rate without warnings', async () => {
    const checked = await validatePromptAudio(voicedWav({ sampleRate: 24_000, seconds: 5, peak: 0.5 }), limits);
    expect(checked).toMatchObject({ format: 'wav', codec: 'pcm16', sampleRate: 24_000, channels: 1, durationMs: 5000, warnings: [] });
    expect(checked.samples).toHaveLength(120_000);
    expect(checked.peakDbfs).toBeCloseTo(-6, 0);
    expect(checked.leadingSilenceMs).toBe(0);
  });

  it('rejects too short and too long recordings with the measured length and the allowed range', async () => {
    const short = await rejection(validatePromptAudio(voicedWav({ sampleRate: 24_000, seconds: 1.5 }), limits));
    expect(short.code).toBe('TOO_SHORT');
    expect(short.message).toMatch(/1\.5 s; a voice prompt must be between 3 and 30 s/);
    const long = await rejection(validatePromptAudio(voicedWav({ sampleRate: 16_000, seconds: 45 }), limits));
    expect(long.code).toBe('TOO_LONG');
    expect(long.message).toMatch(/too long: 45 s; a voice prompt must be between 3 and 30 s/);
  });

  it('refuses hours of audio from the headers, before decoding them', async () => {
    // 10 minutes of 16 kHz WAV: the header alone says it is far too long.
    const err = await rejection(validatePromptAudio(makeWav([new Float32Array(16_000 * 600).fill(0.1)], { sampleRate: 16_000 }), limits));
    expect(err.code).toBe('TOO_LONG');
    expect(err.message).toMatch(/about 600 s/);
  });

  it('rejects a sample rate below the minimum: found vs needed', async () => {
    const err = await rejection(validatePromptAudio(voicedWav({ sampleRate: 8000, seconds: 4 }), limits));
    expect(err.code).toBe('SAMPLE_RATE_TOO_LOW');
    expect(err.message).toMatch(/found 8000 Hz, needs at least 16000 Hz/);
  });

  it('rejects digital silence: zeros, and 1-LSB dither', async () => {
    const zeros = await rejection(validatePromptAudio(makeWav([new Float32Array(24_000 * 4)], { sampleRate: 24_000 }), limits));
    expect(zeros.code).toBe('SILENT');
    expect(zeros.message).toMatch(/every sample is zero/);
    const dither = new Float32Array(24_000 * 4).map((_, i) => ((i * 2654435761) % 3) - 1).map((x) => x / 32767);
    const lsb = await rejection(validatePromptAudio(makeWav([dither], { sampleRate: 24_000 }), limits));
    expect(lsb.code).toBe('SILENT');
    expect(lsb.message).toMatch(/-90 dBFS/);
  });

  it('warns about clipping', async () => {
    const checked = await validatePromptAudio(voicedWav({ sampleRate: 24_000, seconds: 4, peak: 0.9, overdrive: 3 }), limits);
    expect(checked.warnings.map((w) => w.code)).toEqual(['CLIPPING']);
    expect(checked.warnings[0]!.message).toMatch(/% of the samples are clipped/);
    expect(checked.clippedFraction).toBeGreaterThan(0.01);
  });

  it('warns about a very low level', async () => {
    const checked = await validatePromptAudio(voicedWav({ sampleRate: 24_000, seconds: 4, peak: 0.01 }), limits);
    expect(checked.warnings.map((w) => w.code)).toEqual(['LOW_LEVEL']);
    expect(checked.warnings[0]!.message).toMatch(/very quiet \(speech level -\d+ dBFS, peak -40 dBFS\)/);
  });

  it('warns about long leading and trailing silence', async () => {
    const checked = await validatePromptAudio(voicedWav({ sampleRate: 24_000, seconds: 3, leadingSilence: 2, trailingSilence: 1.5 }), limits);
    expect(checked.warnings.map((w) => w.code)).toEqual(['LEADING_SILENCE', 'TRAILING_SILENCE']);
    expect(checked.leadingSilenceMs).toBeCloseTo(2000, -1);
    expect(checked.warnings[0]!.message).toMatch(/starts with 2 s of silence/);
    expect(checked.warnings[1]!.message).toMatch(/ends with 1\.5 s of silence/);
  });

  it('warns when the rate is allowed but below the preferred one', async () => {
    const checked = await validatePromptAudio(voicedWav({ sampleRate: 16_000, seconds: 4 }), limits);
    expect(checked.warnings).toEqual([{ code: 'LOW_SAMPLE_RATE', message: 'The sample rate is 16000 Hz; 24000 Hz or more gives a clearer clone.' }]);
  });
});
