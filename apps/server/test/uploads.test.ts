import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { uploadErrorSchema, uploadResultSchema, type UploadResult } from '@chorus/api/schemas';
import { migrateDatabase, openDb, type Db } from '@chorus/db';
import { decodeWav } from '@chorus/inference';
import pino from 'pino';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { AuthService } from '@chorus/api';
import { LocalDirectoryStore } from '@chorus/storage';
import { createHttpAuthenticator } from '../src/auth/http-auth.ts';
import { createUploadHandler } from '../src/http/uploads.ts';
import { FIXTURES_DIR, makeWav, voicedSignal, voicedWav } from './helpers/audio.ts';

const MB = 1024 * 1024;
const limits = { promptMinMs: 3000, promptMaxMs: 30_000, promptMinSampleRate: 16_000, promptPreferredSampleRate: 24_000 };

let tmp: string;
let dataDir: string;
let db: Db;
let server: http.Server;
let url: string;
/** A real admin's API token: uploads need a member or admin. */
let authorization: string;

beforeAll(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'chorus-uploads-'));
  dataDir = path.join(tmp, 'data');
  const databaseUrl = `file:${path.join(tmp, 't.db')}`;
  await migrateDatabase(databaseUrl);
  db = await openDb(databaseUrl);
  const auth = new AuthService(db);
  const admin = await auth.createFirstAdmin({ email: 'admin@example.com', name: 'Admin', password: 'correct horse battery' });
  authorization = `Bearer ${(await auth.createApiToken(admin!.id, 'uploads test')).token}`;
  const handler = createUploadHandler({ db, store: new LocalDirectoryStore(dataDir), maxBytes: 20 * MB, limits, authenticate: createHttpAuthenticator(auth), logger: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }) });
  server = http.createServer((req, res) => {
    handler(req, res).catch((err: unknown) => {
      res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/uploads`;
});

afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await db?.$disconnect();
  fs.rmSync(tmp, { recursive: true, force: true });
});

async function reset(): Promise<void> {
  await db.upload.deleteMany();
  fs.rmSync(path.join(dataDir, 'uploads'), { recursive: true, force: true });
}

const fixture = (name: string): Uint8Array => new Uint8Array(fs.readFileSync(path.join(FIXTURES_DIR, name)));

function postRaw(bytes: Uint8Array, headers: Record<string, string> = { 'content-type': 'application/octet-stream' }): Promise<Response> {
  return fetch(url, { method: 'POST', body: bytes, headers: { authorization, ...headers } });
}

function postMultipart(bytes: Uint8Array, filename: string, field = 'file', type = 'application/octet-stream'): Promise<Response> {
  const form = new FormData();
  form.append('note', 'a form field before the file');
  form.append(field, new Blob([bytes], { type }), filename);
  return fetch(url, { method: 'POST', body: form, headers: { authorization } });
}

function uploadedFiles(): string[] {
  const dir = path.join(dataDir, 'uploads');
  return fs.existsSync(dir) ? fs.readdirSync(dir).sort() : [];
}

async function accepted(res: Response, status = 201): Promise<UploadResult> {
  const body: unknown = await res.json();
  expect(res.status, JSON.stringify(body)).toBe(status);
  return uploadResultSchema.parse(body);
}

/** Status, code and the key words of the message — and nothing was stored. */
async function expectRefused(res: Response | Promise<Response>, status: number, code: string, ...words: RegExp[]): Promise<string> {
  const before = await db.upload.count();
  const filesBefore = uploadedFiles();
  const response = await res;
  const body = uploadErrorSchema.parse(await response.json());
  expect(response.status, body.error.message).toBe(status);
  expect(body.error.code).toBe(code);
  for (const w of words) expect(body.error.message).toMatch(w);
  expect(await db.upload.count()).toBe(before);
  expect(uploadedFiles()).toEqual(filesBefore);
  return body.error.message;
}

/** The stored row and both files match what the response said. */
async function expectStored(result: UploadResult, original: Uint8Array, originalName: string | null): Promise<void> {
  const row = await db.upload.findUniqueOrThrow({ where: { id: result.id } });
  expect(row).toMatchObject({
    sha256: result.sha256,
    format: result.format,
    sampleRate: result.sampleRate,
    channels: result.channels,
    durationMs: result.durationMs,
    sizeBytes: original.length,
    originalName,
    originalPath: `uploads/${result.sha256}.${result.format}`,
    pcmPath: `uploads/${result.sha256}.pcm.wav`,
  });
  expect(row.warnings).toEqual(result.warnings);
  // Byte-for-byte (Buffer.equals: a deep toEqual over a megabyte is slow).
  expect(fs.readFileSync(path.join(dataDir, row.originalPath)).equals(original)).toBe(true);
  const pcm = decodeWav(new Uint8Array(fs.readFileSync(path.join(dataDir, row.pcmPath))));
  expect(pcm.channels).toHaveLength(1);
  expect(pcm.sampleRate).toBe(result.sampleRate);
  expect(Math.abs((pcm.channels[0]!.length * 1000) / pcm.sampleRate - result.durationMs)).toBeLessThanOrEqual(1);
  expect(uploadedFiles().filter((f) => f.endsWith('.tmp'))).toEqual([]);
}

describe('POST /api/uploads: accepted formats', () => {
  beforeEach(reset);

  const cases: { name: string; bytes: () => Uint8Array; filename: string; expected: Partial<UploadResult> }[] = [
    { name: 'WAV 16-bit', filename: 'voice.wav', bytes: () => voicedWav({ sampleRate: 24_000, seconds: 4 }), expected: { format: 'wav', sampleRate: 24_000, channels: 1, durationMs: 4000 } },
    { name: 'WAV 24-bit stereo', filename: 'stereo.wav', bytes: () => makeWav([voicedSignal({ sampleRate: 48_000, seconds: 3.5 }), voicedSignal({ sampleRate: 48_000, seconds: 3.5, f0: 180 })], { sampleRate: 48_000, format: 'pcm24' }), expected: { format: 'wav', sampleRate: 48_000, channels: 2, durationMs: 3500 } },
    { name: 'WAV 32-bit float', filename: 'float.wav', bytes: () => makeWav([voicedSignal({ sampleRate: 44_100, seconds: 5 })], { sampleRate: 44_100, format: 'float32' }), expected: { format: 'wav', sampleRate: 44_100, channels: 1, durationMs: 5000 } },
    { name: 'FLAC', filename: 'speech.flac', bytes: () => fixture('speech-16k.flac'), expected: { format: 'flac', sampleRate: 16_000, channels: 1, durationMs: 3190 } },
    { name: 'MP3 (mono, no ID3)', filename: 'speech.mp3', bytes: () => fixture('speech-24k-mono.mp3'), expected: { format: 'mp3', sampleRate: 24_000, channels: 1, durationMs: 4305 } },
    { name: 'MP3 (stereo, ID3)', filename: 'speech.mp3', bytes: () => fixture('speech-44k-stereo.mp3'), expected: { format: 'mp3', sampleRate: 44_100, channels: 2, durationMs: 4305 } },
    { name: 'OGG Opus', filename: 'speech.opus', bytes: () => fixture('speech-48k.opus'), expected: { format: 'ogg', sampleRate: 48_000, channels: 1, durationMs: 4305 } },
    { name: 'OGG Vorbis', filename: 'speech.ogg', bytes: () => fixture('speech-22k-vorbis.ogg'), expected: { format: 'ogg', sampleRate: 22_050, channels: 1, durationMs: 4305 } },
  ];

  for (const c of cases) {
    it(`${c.name}: raw body, then multipart`, async () => {
      const bytes = c.bytes();
      const raw = await accepted(await postRaw(bytes, { 'content-type': 'audio/whatever', 'content-disposition': `attachment; filename="${c.filename}"` }));
      expect(raw).toMatchObject(c.expected);
      expect(raw.id).toMatch(/^upl_[0-9a-z]{26}$/);
      await expectStored(raw, bytes, c.filename);

      await reset();
      const multipart = await accepted(await postMultipart(bytes, c.filename));
      expect(multipart).toMatchObject({ ...c.expected, sha256: raw.sha256 });
      expect(multipart.id).not.toBe(raw.id);
      await expectStored(multipart, bytes, c.filename);
    });
  }
});

describe('POST /api/uploads: idempotent by content', () => {
  beforeEach(reset);

  it('the same bytes twice (raw, then multipart under another name) give the same upload', async () => {
    const bytes = voicedWav({ sampleRate: 24_000, seconds: 3.5 });
    const first = await accepted(await postRaw(bytes));
    const second = await accepted(await postMultipart(bytes, 'other-name.wav'), 200);
    expect(second).toEqual(first);
    expect(await db.upload.count()).toBe(1);
    expect(uploadedFiles()).toEqual([`${first.sha256}.pcm.wav`, `${first.sha256}.wav`]);
  });

  it('restores the files of a known upload whose files went missing', async () => {
    const bytes = voicedWav({ sampleRate: 24_000, seconds: 3.2 });
    const first = await accepted(await postRaw(bytes));
    fs.rmSync(path.join(dataDir, 'uploads'), { recursive: true });
    const again = await accepted(await postRaw(bytes), 200);
    expect(again.id).toBe(first.id);
    await expectStored(again, bytes, null);
  });

  it('concurrent identical uploads end with one row', async () => {
    const bytes = voicedWav({ sampleRate: 24_000, seconds: 3.3 });
    const results = await Promise.all([postRaw(bytes), postRaw(bytes), postRaw(bytes)]);
    const bodies = await Promise.all(results.map((r) => r.json() as Promise<UploadResult>));
    expect(results.map((r) => r.status).sort()).toContain(201);
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(await db.upload.count()).toBe(1);
  });
});

describe('POST /api/uploads: refusals store nothing', () => {
  beforeAll(reset);

  it('a truncated WAV: 400 UNDECODABLE saying how much is missing', async () => {
    const wav = voicedWav({ sampleRate: 24_000, seconds: 4 });
    await expectRefused(postRaw(wav.subarray(0, 44 + 100_000)), 400, 'UNDECODABLE', /truncated/, /header says 192000 bytes of audio, only 100000 present/);
  });

  it('an 8 kHz WAV: 400 SAMPLE_RATE_TOO_LOW', async () => {
    await expectRefused(postRaw(voicedWav({ sampleRate: 8000, seconds: 4 })), 400, 'SAMPLE_RATE_TOO_LOW', /found 8000 Hz, needs at least 16000 Hz/);
  });

  it('a 45 s WAV: 400 TOO_LONG with the length and the allowed range', async () => {
    await expectRefused(postMultipart(voicedWav({ sampleRate: 16_000, seconds: 45 }), 'long.wav'), 400, 'TOO_LONG', /45 s/, /between 3 and 30 s/);
  });

  it('a 1 s WAV: 400 TOO_SHORT', async () => {
    await expectRefused(postRaw(voicedWav({ sampleRate: 24_000, seconds: 1 })), 400, 'TOO_SHORT', /1 s/, /between 3 and 30 s/);
  });

  it('a silent WAV: 400 SILENT', async () => {
    await expectRefused(postRaw(makeWav([new Float32Array(24_000 * 5)], { sampleRate: 24_000 })), 400, 'SILENT', /silent/, /microphone/);
  });

  it('a text file named .wav: 415 UNSUPPORTED_FORMAT naming what is accepted', async () => {
    const text = new TextEncoder().encode('This is my voice sample, honest.\n'.repeat(100));
    await expectRefused(postMultipart(text, 'voice.wav', 'file', 'audio/wav'), 415, 'UNSUPPORTED_FORMAT', /text file/, /WAV \(PCM 16\/24\/32-bit or float\), FLAC, MP3, OGG \(Opus or Vorbis\)/);
    await expectRefused(postRaw(text, { 'content-type': 'audio/wav' }), 415, 'UNSUPPORTED_FORMAT', /text file/);
  });

  it('a browser WebM recording: 415 with advice to record again', async () => {
    await expectRefused(postMultipart(fixture('browser-recording.webm'), 'recording.wav'), 415, 'UNSUPPORTED_FORMAT', /WebM/, /converts recordings to WAV/);
  });

  it('an empty body: 400 EMPTY_FILE (raw and multipart)', async () => {
    await expectRefused(postRaw(new Uint8Array(0)), 400, 'EMPTY_FILE', /empty/);
    await expectRefused(postMultipart(new Uint8Array(0), 'empty.wav'), 400, 'EMPTY_FILE', /empty/);
  });

  it('multipart without a "file" field: 400 BAD_REQUEST', async () => {
    await expectRefused(postMultipart(voicedWav({ sampleRate: 24_000, seconds: 4 }), 'voice.wav', 'audio'), 400, 'BAD_REQUEST', /"file"/);
  });

  const big = (): Uint8Array => {
    const bytes = new Uint8Array(25 * MB);
    bytes.set(voicedWav({ sampleRate: 24_000, seconds: 4 }));
    return bytes;
  };

  it('a 25 MB body with Content-Length: 413 TOO_LARGE before reading it', async () => {
    await expectRefused(postRaw(big()), 413, 'TOO_LARGE', /20 MB limit/);
  });

  it('a 25 MB multipart upload: 413 TOO_LARGE', async () => {
    await expectRefused(postMultipart(big(), 'big.wav'), 413, 'TOO_LARGE', /20 MB limit/);
  });

  it('a streamed body without Content-Length: 413 TOO_LARGE while streaming', async () => {
    // node:http rather than fetch: it hands over the response as soon as it arrives, while the
    // body is still being written (undici may hold it until the body is done), like a browser.
    const total = 200 * MB;
    const zeros = new Uint8Array(256 * 1024);
    let sent = 0;
    const res = new Promise<Response>((resolve, reject) => {
      const req = http.request(url, { method: 'POST', headers: { 'content-type': 'audio/wav', 'transfer-encoding': 'chunked', authorization } });
      let answered = false;
      req.on('error', (err) => { if (!answered) reject(err); }); // EPIPE after the answer is expected
      req.on('response', (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => resolve(new Response(Buffer.concat(chunks), { status: response.statusCode ?? 0 })));
        response.on('error', reject);
      });
      const pump = (): void => {
        while (!answered && sent < total) {
          const chunk = sent === 0 ? voicedWav({ sampleRate: 24_000, seconds: 4 }) : zeros;
          sent += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
        if (!answered) req.end();
      };
      pump();
    });
    await expectRefused(res, 413, 'TOO_LARGE', /20 MB limit/);
    // It answered soon after the limit, long before the end of the body.
    expect(sent).toBeLessThan(total / 2);
  });

  it('still serves uploads after refusing oversized ones', async () => {
    const ok = await accepted(await postRaw(voicedWav({ sampleRate: 24_000, seconds: 3.7 })));
    expect(ok.durationMs).toBe(3700);
  });
});

describe('POST /api/uploads: warnings', () => {
  beforeEach(reset);

  it('clipped audio: CLIPPING', async () => {
    const result = await accepted(await postRaw(voicedWav({ sampleRate: 24_000, seconds: 4, peak: 0.9, overdrive: 3 })));
    expect(result.warnings.map((w) => w.code)).toEqual(['CLIPPING']);
    expect(result.warnings[0]!.message).toMatch(/clipped/);
  });

  it('2 s of leading silence: LEADING_SILENCE', async () => {
    const result = await accepted(await postRaw(voicedWav({ sampleRate: 24_000, seconds: 3, leadingSilence: 2 })));
    expect(result.warnings.map((w) => w.code)).toEqual(['LEADING_SILENCE']);
    expect(result.warnings[0]!.message).toMatch(/starts with 2 s of silence/);
  });

  it('16 kHz: LOW_SAMPLE_RATE, kept on the stored row', async () => {
    const bytes = voicedWav({ sampleRate: 16_000, seconds: 4 });
    const result = await accepted(await postRaw(bytes));
    expect(result.warnings.map((w) => w.code)).toEqual(['LOW_SAMPLE_RATE']);
    expect(result.warnings[0]!.message).toMatch(/16000 Hz; 24000 Hz or more/);
    await expectStored(result, bytes, null);
    // The idempotent answer carries the same warnings.
    expect((await accepted(await postRaw(bytes), 200)).warnings).toEqual(result.warnings);
  });
});
