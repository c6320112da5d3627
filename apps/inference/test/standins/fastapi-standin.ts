/**
 * STAND-IN for CosyVoice's FastAPI runtime (runtime/python/fastapi/server.py), for tests
 * only: there is no GPU and no CosyVoice model here. It speaks the runtime's protocol byte
 * for byte and answers with synthetic tones instead of speech:
 *
 * - POST (or GET) /inference_sft | _zero_shot | _cross_lingual | _instruct | _instruct2,
 *   multipart form fields as server.py declares them; a missing or empty field gives
 *   FastAPI's 422 `{"detail": [{"type": "missing", "loc": ["body", name], …}]}`.
 * - prompt_wav is read like CosyVoice's load_wav: any WAV; below 16 kHz the assertion
 *   fails before streaming starts, which Starlette turns into a 500 (a plain
 *   "Internal Server Error", or the traceback as text/plain when the app runs in debug).
 * - The answer is a StreamingResponse: headers first, then one burst of headerless mono
 *   int16 little-endian PCM per text segment (the model's float output × 2^15), chunked,
 *   no content type, no sample rate.
 * - An exception inside the model's generator (e.g. CosyVoice3's `<|endofprompt|>`
 *   assertion, an unknown spk_id, CUDA running out of memory) happens after the headers
 *   went out: uvicorn logs it and closes the connection mid-stream.
 * - /docs and /openapi.json answer like FastAPI's.
 *
 * Tests add failures with failNext() and read what arrived in `requests`.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeWav } from '../../src/audio/wav.ts';

export interface FastApiStandinOptions {
  /** The model's output rate: 22050 (CosyVoice 1) or 24000 (2 and 3). */
  sampleRate: number;
  /** Which CosyVoice the fake model is: 3 asserts `<|endofprompt|>`, 1 has no inference_instruct2. */
  generation: 1 | 2 | 3;
  /** FastAPI(debug=True): a 500 carries the Python traceback instead of "Internal Server Error". */
  debug?: boolean;
  /** Synthesis time before each segment's audio goes out. */
  segmentDelayMs?: number;
  /** Write each segment in odd-sized pieces with pauses, so reads split samples. */
  splitWrites?: boolean;
  /** Speaker ids of the (SFT) model. */
  speakers?: string[];
  /** Fields a different server.py version requires on top of the real ones, per path. */
  extraRequiredFields?: Record<string, string[]>;
}

export type FastApiFailure =
  /**
   * The endpoint raises before streaming: HTTP 500. The real server.py does so only for
   * load_wav (see the 8 kHz case); model errors reach a client this way only from a server
   * that runs the model before it starts streaming (a modified server.py, a proxy).
   */
  | { kind: 'raise-before-stream'; error: 'oom' | 'endofprompt' | 'too-long' | 'other' }
  /** The model's generator raises after `afterSegments` segments: the connection closes. */
  | { kind: 'raise-mid-stream'; afterSegments: number; error?: 'oom' | 'other' }
  /** The generator yields nothing: 200 with an empty body. */
  | { kind: 'empty' }
  /** Headers (and `afterSegments` segments) go out, then nothing, until the client gives up. */
  | { kind: 'stall'; afterSegments: number };

export interface RecordedFile {
  filename: string;
  contentType: string;
  bytes: Uint8Array;
}

export interface RecordedRequest {
  method: string;
  path: string;
  contentType: string;
  fields: Record<string, string>;
  files: Record<string, RecordedFile>;
  /** prompt_wav as load_wav would see it, with the WAV header's bit depth. */
  promptWav?: { sampleRate: number; channels: number; bitsPerSample: number; frames: number };
  status?: number;
  /** Segments (texts) the fake model spoke, and the PCM it sent. */
  segments: string[];
  pcm: Int16Array[];
  /** The client closed the connection before the answer ended (Date.now()). */
  abortedAt?: number;
  receivedAt: number;
}

const ENDPOINTS: Record<string, { text: string[]; file: string[] }> = {
  '/inference_sft': { text: ['tts_text', 'spk_id'], file: [] },
  '/inference_zero_shot': { text: ['tts_text', 'prompt_text'], file: ['prompt_wav'] },
  '/inference_cross_lingual': { text: ['tts_text'], file: ['prompt_wav'] },
  '/inference_instruct': { text: ['tts_text', 'spk_id', 'instruct_text'], file: [] },
  '/inference_instruct2': { text: ['tts_text', 'instruct_text'], file: ['prompt_wav'] },
};

const MARKER = '<|endofprompt|>';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Python-shaped tracebacks for the failures CosyVoice really reports (source lines left out). */
function traceback(frames: [string, number, string][], exception: string): string {
  const lines = ['Traceback (most recent call last):'];
  for (const [file, line, fn] of frames) lines.push(`  File "${file}", line ${line}, in ${fn}`);
  lines.push(exception);
  return `${lines.join('\n')}\n`;
}

const ASGI = (): [string, number, string][] => [
  ['/opt/conda/lib/python3.10/site-packages/uvicorn/protocols/http/h11_impl.py', 403, 'run_asgi'],
  ['/opt/conda/lib/python3.10/site-packages/starlette/middleware/errors.py', 165, '__call__'],
  ['/opt/conda/lib/python3.10/site-packages/fastapi/routing.py', 212, 'run_endpoint_function'],
];

const EXCEPTIONS = {
  oom:
    'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 1.24 GiB. GPU 0 has a total capacity of 23.55 GiB of which 402.19 MiB is free. ' +
    'Including non-PyTorch memory, this process has 23.14 GiB memory in use.',
  endofprompt: 'AssertionError: <|endofprompt|> not detected in CosyVoice3 text or prompt_text, check your input!',
  'too-long': 'AssertionError: do not support extract speech token for audio longer than 30s',
  other: 'RuntimeError: shape mismatch: value tensor of shape [1, 80, 0] cannot be broadcast to indexing result of shape [1, 80, 12]',
};

/** The fake model's text segmentation: sentences, short ones merged (CosyVoice merges to ~60–80 tokens). */
export function standinSegments(ttsText: string): string[] {
  const spoken = ttsText.includes(MARKER) ? ttsText.slice(ttsText.lastIndexOf(MARKER) + MARKER.length) : ttsText;
  const sentences = spoken.match(/[^。！？!?；;.]+[。！？!?；;.]*/gu) ?? [];
  const segments: string[] = [];
  for (const sentence of sentences.map((s) => s.trim()).filter((s) => s.length > 0)) {
    if (segments.length > 0 && sentence.length < 6) segments[segments.length - 1] += sentence;
    else segments.push(sentence);
  }
  return segments;
}

/** A deterministic tone for one segment, about as long as speech for it would be. */
export function standinSegmentPcm(segment: string, index: number, sampleRate: number): Int16Array {
  const han = (segment.match(/\p{Script=Han}/gu) ?? []).length;
  const letters = (segment.match(/\p{L}/gu) ?? []).length - han;
  const seconds = 0.3 + han * 0.22 + letters * 0.065;
  const n = Math.round(seconds * sampleRate);
  const freq = 180 + 35 * (index % 6);
  const fade = Math.round(0.01 * sampleRate);
  const out = new Int16Array(n);
  for (let i = 0; i < n; i++) {
    const envelope = Math.min(1, i / fade, (n - 1 - i) / fade);
    const x = 0.4 * envelope * (Math.sin((2 * Math.PI * freq * i) / sampleRate) + 0.3 * Math.sin((2 * Math.PI * 2 * freq * i) / sampleRate));
    // numpy's astype(np.int16) after * 2**15 truncates toward zero.
    out[i] = Math.trunc(x * 32768);
  }
  return out;
}

export class FastApiStandin {
  readonly requests: RecordedRequest[] = [];
  private readonly server: http.Server;
  private readonly failures: FastApiFailure[] = [];
  private readonly waiters = new Set<() => void>();
  url = '';

  constructor(private readonly options: FastApiStandinOptions) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // A bug in the stand-in itself: make it loud in the test output.
        console.error('fastapi stand-in failed:', err);
        if (!res.headersSent) res.writeHead(599).end(String(err));
        else res.destroy();
      });
    });
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  async close(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** The next inference request fails this way. */
  failNext(failure: FastApiFailure): void {
    this.failures.push(failure);
  }

  get last(): RecordedRequest {
    const last = this.requests.at(-1);
    if (!last) throw new Error('The stand-in has received no inference request.');
    return last;
  }

  /** Resolves once the last request's client has closed its connection early (or rejects after `ms`). */
  async waitForAbort(ms = 2000): Promise<RecordedRequest> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const last = this.requests.at(-1);
      if (last?.abortedAt !== undefined) return last;
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.waiters.delete(done);
          resolve();
        };
        this.waiters.add(done);
        setTimeout(done, 20);
      });
    }
    throw new Error(`The client did not close its request within ${ms} ms.`);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://standin').pathname;
    res.setHeader('server', 'uvicorn');
    if (req.method === 'GET' && path === '/docs') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end('<!DOCTYPE html><html><head><title>FastAPI - Swagger UI</title></head><body><div id="swagger-ui"></div></body></html>');
      return;
    }
    if (req.method === 'GET' && path === '/openapi.json') {
      const paths = Object.fromEntries(Object.keys(ENDPOINTS).map((p) => [p, { get: {}, post: {} }]));
      json(res, 200, { openapi: '3.1.0', info: { title: 'FastAPI', version: '0.1.0' }, paths });
      return;
    }
    const endpoint = ENDPOINTS[path];
    if (!endpoint) return json(res, 404, { detail: 'Not Found' });
    if (req.method !== 'GET' && req.method !== 'POST') return json(res, 405, { detail: 'Method Not Allowed' });

    const body = await readAll(req);
    const contentType = req.headers['content-type'] ?? '';
    const record: RecordedRequest = { method: req.method, path, contentType, fields: {}, files: {}, segments: [], pcm: [], receivedAt: Date.now() };
    this.requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.abortedAt = Date.now();
      for (const wake of this.waiters) wake();
    });

    // FastAPI reads Form()/File() parameters from request.form(); other bodies yield no fields.
    let form: FormData | null = null;
    if (/^(multipart\/form-data|application\/x-www-form-urlencoded)/i.test(contentType)) {
      try {
        form = await new Request('http://standin/', { method: 'POST', headers: { 'content-type': contentType }, body: new Uint8Array(body) }).formData();
      } catch {
        return json(res, 400, { detail: 'There was an error parsing the body' }, record);
      }
    }
    const errors: unknown[] = [];
    const required = [...endpoint.text, ...(this.options.extraRequiredFields?.[path] ?? [])];
    for (const name of required) {
      const value = form?.get(name) ?? null;
      // FastAPI treats an empty form string as missing.
      if (value === null || value === '') errors.push({ type: 'missing', loc: ['body', name], msg: 'Field required', input: null });
      else if (typeof value !== 'string') errors.push({ type: 'string_type', loc: ['body', name], msg: 'Input should be a valid string', input: {} });
      else record.fields[name] = value;
    }
    for (const name of endpoint.file) {
      const value = form?.get(name) ?? null;
      if (value === null || value === '') errors.push({ type: 'missing', loc: ['body', name], msg: 'Field required', input: null });
      else if (typeof value === 'string') {
        errors.push({ type: 'value_error', loc: ['body', name], msg: "Value error, Expected UploadFile, received: <class 'str'>", input: value, ctx: { error: {} } });
      } else {
        record.files[name] = { filename: value.name, contentType: value.type, bytes: new Uint8Array(await value.arrayBuffer()) };
      }
    }
    if (errors.length > 0) return json(res, 422, { detail: errors }, record);

    const failure = this.failures.shift();
    const endpointFrame: [string, number, string] = ['/opt/CosyVoice/runtime/python/fastapi/server.py', 60, path.slice(1)];

    // The endpoint body before StreamingResponse: load_wav, then the generator object is created.
    const wavFile = record.files.prompt_wav;
    if (wavFile) {
      let decoded;
      try {
        decoded = decodeWav(wavFile.bytes);
      } catch {
        return this.fail500(
          res,
          record,
          traceback([...ASGI(), endpointFrame, ['/opt/CosyVoice/cosyvoice/utils/file_utils.py', 47, 'load_wav']], 'soundfile.LibsndfileError: Error opening <tempfile.SpooledTemporaryFile object>: Format not recognised.'),
        );
      }
      const view = new DataView(wavFile.bytes.buffer, wavFile.bytes.byteOffset, wavFile.bytes.byteLength);
      record.promptWav = { sampleRate: decoded.sampleRate, channels: decoded.channels.length, bitsPerSample: view.getUint16(34, true), frames: decoded.channels[0]?.length ?? 0 };
      if (decoded.sampleRate !== 16000 && decoded.sampleRate < 16000) {
        return this.fail500(
          res,
          record,
          traceback([...ASGI(), endpointFrame, ['/opt/CosyVoice/cosyvoice/utils/file_utils.py', 49, 'load_wav']], `AssertionError: wav sample rate ${decoded.sampleRate} must be greater than 16000`),
        );
      }
    }
    if (path === '/inference_instruct2' && this.options.generation === 1) {
      return this.fail500(res, record, traceback([...ASGI(), endpointFrame], "AttributeError: 'CosyVoice' object has no attribute 'inference_instruct2'"));
    }
    if (failure?.kind === 'raise-before-stream') {
      return this.fail500(res, record, traceback([...ASGI(), endpointFrame, ['/opt/CosyVoice/cosyvoice/cli/model.py', 232, 'tts']], EXCEPTIONS[failure.error]));
    }

    // StreamingResponse: headers go out first; the generator runs as the body is sent.
    record.status = 200;
    res.writeHead(200, { 'transfer-encoding': 'chunked' });
    res.flushHeaders();

    let modelError: string | null = null;
    if (path === '/inference_sft' || path === '/inference_instruct') {
      if (!(this.options.speakers ?? []).includes(record.fields.spk_id ?? '')) modelError = `KeyError: '${record.fields.spk_id}'`;
    }
    if (this.options.generation === 3) {
      // CosyVoice3's LLM asserts the marker in (prompt text + text); instruct2 puts the instruction in prompt_text.
      const seen = path === '/inference_instruct2' ? record.fields.instruct_text : `${record.fields.prompt_text ?? ''}${record.fields.tts_text ?? ''}`;
      if (!seen?.includes(MARKER)) modelError = EXCEPTIONS.endofprompt;
    }
    if (failure?.kind === 'empty') return void res.end();

    const segments = standinSegments(record.fields.tts_text ?? '');
    const sendSegments =
      modelError !== null ? 0 : failure?.kind === 'raise-mid-stream' || failure?.kind === 'stall' ? Math.min(failure.afterSegments, segments.length) : segments.length;
    for (let i = 0; i < sendSegments; i++) {
      await sleep(this.options.segmentDelayMs ?? 20);
      if (record.abortedAt !== undefined) return;
      const pcm = standinSegmentPcm(segments[i]!, i, this.options.sampleRate);
      record.segments.push(segments[i]!);
      record.pcm.push(pcm);
      const bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
      if (this.options.splitWrites) {
        for (let offset = 0; offset < bytes.length; offset += 1001) {
          res.write(bytes.subarray(offset, Math.min(bytes.length, offset + 1001)));
          await sleep(1);
        }
      } else {
        res.write(bytes);
      }
    }
    if (failure?.kind === 'stall') return; // Nothing more, ever; the client's stall timer must fire.
    if (modelError !== null || failure?.kind === 'raise-mid-stream') {
      // uvicorn: "Exception in ASGI application" after the response started → the connection is closed.
      await sleep(5);
      res.socket?.destroy();
      return;
    }
    res.end();
  }

  private fail500(res: http.ServerResponse, record: RecordedRequest, trace: string): void {
    record.status = 500;
    res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(this.options.debug ? trace : 'Internal Server Error');
  }

  /** All PCM the last request was answered with, as one array. */
  lastPcm(): Int16Array {
    const parts = this.last.pcm;
    const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }
}

function json(res: http.ServerResponse, status: number, body: unknown, record?: RecordedRequest): void {
  if (record) record.status = status;
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readAll(req: http.IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

export async function startFastApiStandin(options: FastApiStandinOptions): Promise<FastApiStandin> {
  return new FastApiStandin(options).start();
}
