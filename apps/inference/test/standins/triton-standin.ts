/**
 * STAND-IN for Triton Inference Server serving CosyVoice's model repository
 * (runtime/triton_trtllm/model_repo/cosyvoice2 or model_repo_cosyvoice3/cosyvoice3), for
 * tests only: there is no GPU, TensorRT-LLM or CosyVoice model here. It checks requests
 * the way Triton's HTTP front end and core do against the model's config.pbtxt and
 * answers with a synthetic tone instead of speech:
 *
 * - POST /v2/models/{model}/infer, KServe v2 JSON. Inputs as config.pbtxt declares them
 *   (reference_wav FP32 [-1], reference_wav_len INT32 [1], reference_text BYTES [1],
 *   target_text BYTES [1]; the three reference inputs optional) plus the batch dimension
 *   (max_batch_size > 0). Unknown inputs, wrong data types, wrong shapes or data that does
 *   not fill the shape → HTTP 400 `{"error": "..."}` in Triton's words.
 * - A decoupled (streaming) model → 501, as Triton's HTTP endpoint refuses those.
 * - The model reads the reference as 16 kHz and answers `waveform` FP32 [1, M] at 24 kHz;
 *   an exception in the Python backend → 500 `{"error": "Failed to process the request(s) …"}`.
 * - GET /v2/health/live, /v2/health/ready, /v2/models/{model}/ready (200, or 400 when not
 *   ready), /v2/models/{model}/config and /v2/models/{model} (metadata).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TritonStandinOptions {
  /** Model name in the repository: cosyvoice2 or cosyvoice3. */
  model?: string;
  /** config.pbtxt's max_batch_size (the repository fills in 16; 0 means no batch dimension). */
  maxBatchSize?: number;
  /** model_transaction_policy.decoupled (the repository's run.sh defaults to True: streaming). */
  decoupled?: boolean;
  /** Time the fake model takes per request. */
  inferDelayMs?: number;
}

export type TritonFailure =
  | { kind: 'backend-error'; error: 'oom' | 'other' }
  | { kind: 'no-waveform' }
  | { kind: 'wrong-datatype' }
  | { kind: 'not-json' }
  | { kind: 'empty-waveform' };

export interface RecordedInfer {
  model: string;
  contentType: string;
  /** The parsed request body. */
  body: unknown;
  /** Flattened inputs by name. */
  inputs: Record<string, { datatype: string; shape: number[]; data: unknown[] }>;
  status?: number;
  /** The waveform the stand-in answered with. */
  waveform?: Float32Array;
  /** The connection closed before the answer was sent (Date.now()). */
  abortedAt?: number;
}

interface InputSpec {
  datatype: 'FP32' | 'INT32' | 'BYTES';
  dims: number[];
  optional: boolean;
}

const INPUTS: Record<string, InputSpec> = {
  reference_wav: { datatype: 'FP32', dims: [-1], optional: true },
  reference_wav_len: { datatype: 'INT32', dims: [1], optional: true },
  reference_text: { datatype: 'BYTES', dims: [1], optional: true },
  target_text: { datatype: 'BYTES', dims: [1], optional: false },
};
export const TRITON_OUTPUT_RATE = 24000;

function flatten(data: unknown, out: unknown[] = []): unknown[] {
  if (Array.isArray(data)) for (const item of data) flatten(item, out);
  else out.push(data);
  return out;
}

const dimsText = (dims: number[]): string => `[${dims.join(',')}]`;

/** The fake model's output: a tone as long as speech for the text would roughly be. */
export function standinWaveform(targetText: string): Float32Array {
  const han = (targetText.match(/\p{Script=Han}/gu) ?? []).length;
  const letters = (targetText.match(/\p{L}/gu) ?? []).length - han;
  const n = Math.round((0.4 + han * 0.22 + letters * 0.065) * TRITON_OUTPUT_RATE);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = 0.35 * Math.sin((2 * Math.PI * 210 * i) / TRITON_OUTPUT_RATE) * Math.min(1, i / 240, (n - 1 - i) / 240);
  return out;
}

export class TritonStandin {
  readonly requests: RecordedInfer[] = [];
  ready = true;
  private readonly server: http.Server;
  private readonly failures: TritonFailure[] = [];
  url = '';

  constructor(private readonly options: TritonStandinOptions = {}) {
    this.server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        console.error('triton stand-in failed:', err);
        if (!res.headersSent) res.writeHead(599).end(String(err));
        else res.destroy();
      });
    });
  }

  get model(): string {
    return this.options.model ?? 'cosyvoice2';
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

  failNext(failure: TritonFailure): void {
    this.failures.push(failure);
  }

  get last(): RecordedInfer {
    const last = this.requests.at(-1);
    if (!last) throw new Error('The stand-in has received no infer request.');
    return last;
  }

  async waitForAbort(ms = 2000): Promise<RecordedInfer> {
    const deadline = Date.now() + ms;
    while (Date.now() < deadline) {
      const last = this.requests.at(-1);
      if (last?.abortedAt !== undefined) return last;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    throw new Error(`The client did not close its request within ${ms} ms.`);
  }

  private configJson(): unknown {
    const batch = this.options.maxBatchSize ?? 16;
    return {
      name: this.model,
      backend: 'python',
      max_batch_size: batch,
      dynamic_batching: { max_queue_delay_microseconds: 0 },
      model_transaction_policy: { decoupled: this.options.decoupled ?? false },
      input: Object.entries(INPUTS).map(([name, spec]) => ({ name, data_type: spec.datatype === 'BYTES' ? 'TYPE_STRING' : `TYPE_${spec.datatype}`, dims: spec.dims, optional: spec.optional })),
      output: [{ name: 'waveform', data_type: 'TYPE_FP32', dims: [-1] }],
      instance_group: [{ count: 4, kind: 'KIND_CPU' }],
    };
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const path = new URL(req.url ?? '/', 'http://standin').pathname;
    const send = (status: number, body?: unknown): void => {
      if (body === undefined) res.writeHead(status, { 'content-length': 0 }).end();
      else res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    };
    if (req.method === 'GET' && path === '/v2/health/live') return send(200);
    if (req.method === 'GET' && path === '/v2/health/ready') return send(this.ready ? 200 : 400);
    const match = /^\/v2\/models\/([^/]+)(?:\/versions\/\d+)?(\/ready|\/config|\/infer)?$/.exec(path);
    if (!match) return send(404, { error: 'Not Found' });
    const model = decodeURIComponent(match[1]!);
    const action = match[2] ?? '';
    const unknown = { error: `Request for unknown model: '${model}' is not found` };
    if (req.method === 'GET' && action === '/ready') return send(model === this.model && this.ready ? 200 : 400);
    if (model !== this.model) return send(400, unknown);
    if (req.method === 'GET' && action === '/config') return send(200, this.configJson());
    if (req.method === 'GET' && action === '') {
      const batch = (this.options.maxBatchSize ?? 16) > 0 ? [-1] : [];
      return send(200, {
        name: this.model,
        versions: ['1'],
        platform: 'python',
        inputs: Object.entries(INPUTS).map(([name, spec]) => ({ name, datatype: spec.datatype, shape: [...batch, ...spec.dims] })),
        outputs: [{ name: 'waveform', datatype: 'FP32', shape: [...batch, -1] }],
      });
    }
    if (req.method !== 'POST' || action !== '/infer') return send(400, { error: `unsupported request ${req.method} ${path}` });

    const raw = await readAll(req);
    const record: RecordedInfer = { model, contentType: req.headers['content-type'] ?? '', body: null, inputs: {} };
    this.requests.push(record);
    res.on('close', () => {
      if (!res.writableFinished) record.abortedAt = Date.now();
    });
    const reply = (status: number, body: unknown): void => {
      record.status = status;
      send(status, body);
    };
    if (this.options.decoupled) return reply(501, { error: "HTTP end point doesn't support models with decoupled transaction policy" });
    try {
      record.body = JSON.parse(raw.toString('utf8'));
    } catch (err) {
      return reply(400, { error: `failed to parse the request JSON buffer: ${(err as Error).message}` });
    }
    const problem = this.validate(record);
    if (problem) return reply(400, { error: problem });

    // The Python model (model.py execute()).
    await sleep(this.options.inferDelayMs ?? 30);
    if (record.abortedAt !== undefined) return;
    const failure = this.failures.shift();
    const failed = (message: string): void => reply(500, { error: `Failed to process the request(s) for model '${this.model}_0_0', message: ${message}` });
    const ref = record.inputs.reference_wav;
    if (ref) {
      const len = record.inputs.reference_wav_len;
      const text = record.inputs.reference_text;
      if (!len || !text) return failed("AttributeError: 'NoneType' object has no attribute 'as_numpy'");
      const n = Number(len.data[0]);
      if (!(n > 0 && n <= ref.data.length)) return failed(`RuntimeError: reference_wav_len ${n} does not fit reference_wav of ${ref.data.length} samples`);
    }
    if (failure?.kind === 'backend-error') {
      return failed(
        failure.error === 'oom'
          ? 'RuntimeError: CUDA out of memory. Tried to allocate 896.00 MiB. GPU 0 has a total capacity of 44.42 GiB of which 311.56 MiB is free.'
          : 'TritonModelException: Generated IDs is None or empty',
      );
    }
    if (failure?.kind === 'not-json') {
      record.status = 200;
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body>proxy says hello</body></html>');
      return;
    }
    const waveform = failure?.kind === 'empty-waveform' ? new Float32Array(0) : standinWaveform(String(record.inputs.target_text?.data[0] ?? ''));
    record.waveform = waveform;
    const batchDims = (this.options.maxBatchSize ?? 16) > 0 ? [1] : [];
    const outputs =
      failure?.kind === 'no-waveform'
        ? []
        : [{ name: 'waveform', datatype: failure?.kind === 'wrong-datatype' ? 'FP16' : 'FP32', shape: [...batchDims, waveform.length], data: Array.from(waveform) }];
    reply(200, { model_name: this.model, model_version: '1', outputs });
  }

  /** Triton's checks of an infer request against config.pbtxt; the error text, or null. */
  private validate(record: RecordedInfer): string | null {
    const body = record.body;
    const model = this.model;
    if (typeof body !== 'object' || body === null || !('inputs' in body) || !Array.isArray(body.inputs)) return "Unable to parse 'inputs': attempt to access non-existent object member 'inputs'";
    const maxBatch = this.options.maxBatchSize ?? 16;
    let batch: number | null = null;
    for (const input of body.inputs as unknown[]) {
      if (typeof input !== 'object' || input === null) return "Unable to parse 'inputs': expected an object";
      const { name, datatype, shape, data } = input as { name?: unknown; datatype?: unknown; shape?: unknown; data?: unknown };
      if (typeof name !== 'string') return "Unable to parse 'name'";
      const spec = INPUTS[name];
      if (!spec) return `unexpected inference input '${name}' for model '${model}'`;
      if (record.inputs[name]) return `input '${name}' already exists in request`;
      if (typeof datatype !== 'string') return `Unable to parse 'datatype' for input '${name}'`;
      if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) return `Unable to parse 'shape' for input '${name}'`;
      if (datatype !== spec.datatype) return `inference input '${name}' data-type is '${datatype}', but model '${model}' expects '${spec.datatype}'`;
      const dims = shape as number[];
      const expected = maxBatch > 0 ? [-1, ...spec.dims] : spec.dims;
      const fits = dims.length === expected.length && expected.every((d, i) => d === -1 || d === dims[i]);
      if (!fits) return `unexpected shape for input '${name}' for model '${model}'. Expected ${dimsText(expected)}, got ${dimsText(dims)}`;
      if (maxBatch > 0) {
        if (batch === null) batch = dims[0]!;
        else if (dims[0] !== batch) return `input '${name}' batch size does not match other inputs for '${model}'`;
        if (batch > maxBatch) return `inference request batch-size must be <= ${maxBatch} for '${model}'`;
      }
      if (data === undefined) return `Unable to parse 'data' for input '${name}'`;
      const flat = flatten(data);
      const count = dims.reduce((a, b) => a * b, 1);
      if (flat.length !== count) return `Unable to parse 'data': Shape does not match true shape of 'data' field`;
      const typed =
        spec.datatype === 'FP32'
          ? flat.every((v) => typeof v === 'number' && Number.isFinite(v))
          : spec.datatype === 'INT32'
            ? flat.every((v) => Number.isInteger(v) && (v as number) >= -(2 ** 31) && (v as number) < 2 ** 31)
            : flat.every((v) => typeof v === 'string');
      if (!typed) return `Unable to parse 'data': expected ${spec.datatype} values for input '${name}'`;
      record.inputs[name] = { datatype, shape: dims, data: flat };
    }
    const missing = Object.entries(INPUTS).filter(([name, spec]) => !spec.optional && !record.inputs[name]);
    if (missing.length > 0) return `expected ${Object.keys(INPUTS).length} inputs but got ${Object.keys(record.inputs).length} inputs for model '${model}'`;
    return null;
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function readAll(req: http.IncomingMessage): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of req) parts.push(chunk as Buffer);
  return Buffer.concat(parts);
}

export async function startTritonStandin(options: TritonStandinOptions = {}): Promise<TritonStandin> {
  return new TritonStandin(options).start();
}
