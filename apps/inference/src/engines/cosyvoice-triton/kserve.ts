import { EngineError } from '../../engine/engine.ts';
import { clip } from '../remote/error-body.ts';

/**
 * The KServe v2 JSON protocol as CosyVoice's Triton model repository speaks it
 * (runtime/triton_trtllm: client_http.py and model_repo{,_cosyvoice3}/cosyvoice{2,3}/config.pbtxt).
 * The model batches (max_batch_size > 0), so every input carries a leading batch dimension
 * of 1:
 *
 *   reference_wav      FP32   [1, N]  the reference at 16 kHz (the model assumes 16 kHz)
 *   reference_wav_len  INT32  [1, 1]  N
 *   reference_text     BYTES  [1, 1]  transcript of the reference
 *   target_text        BYTES  [1, 1]  the text to speak
 *
 * and the answer has one output, `waveform` FP32 [1, M] at 24 kHz. JSON `data` is sent
 * row-major and nested like client_http.py does (numpy .tolist()); Triton answers with
 * flat data.
 */

export const TRITON_REFERENCE_RATE = 16_000;

export interface InferRequestBody {
  inputs: { name: string; shape: number[]; datatype: 'FP32' | 'INT32' | 'BYTES'; data: unknown[] }[];
}

export function buildInferRequest(reference16k: Float32Array, referenceText: string, targetText: string): InferRequestBody {
  // 1e-7 steps are ~140 dB below full scale, far finer than any 16-bit source, and keep the JSON short.
  const samples = Array.from(reference16k, (x) => Math.round(x * 1e7) / 1e7);
  return {
    inputs: [
      { name: 'reference_wav', shape: [1, samples.length], datatype: 'FP32', data: [samples] },
      { name: 'reference_wav_len', shape: [1, 1], datatype: 'INT32', data: [[samples.length]] },
      { name: 'reference_text', shape: [1, 1], datatype: 'BYTES', data: [referenceText] },
      { name: 'target_text', shape: [1, 1], datatype: 'BYTES', data: [targetText] },
    ],
  };
}

const badResponse = (what: string, stage?: string): EngineError =>
  new EngineError('ENGINE_BAD_RESPONSE', `Triton’s answer is not what CosyVoice’s model returns: ${what}.`, 'The engine’s tritonModel may name a different model, or the model repository differs from CosyVoice’s; an admin should check.', stage);

function flatten(data: unknown[], out: unknown[] = []): unknown[] {
  for (const item of data) {
    if (Array.isArray(item)) flatten(item, out);
    else out.push(item);
  }
  return out;
}

/** The `waveform` output of an infer answer as float samples; ENGINE_BAD_RESPONSE when malformed. */
export function parseWaveform(text: string, stage?: string): Float32Array {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw badResponse(`it is not JSON (${clip(text || '(empty body)', 120)})`, stage);
  }
  if (typeof body !== 'object' || body === null || !('outputs' in body) || !Array.isArray(body.outputs)) {
    throw badResponse('it has no "outputs" list', stage);
  }
  const outputs: unknown[] = body.outputs;
  const named = (o: unknown): o is { name: unknown } => typeof o === 'object' && o !== null && 'name' in o;
  const waveform = outputs.find((o) => named(o) && o.name === 'waveform');
  if (waveform === undefined || typeof waveform !== 'object' || waveform === null) {
    const names = outputs.filter(named).map((o) => String(o.name));
    throw badResponse(`no "waveform" output (outputs: ${names.join(', ') || 'none'})`, stage);
  }
  const datatype = 'datatype' in waveform ? waveform.datatype : undefined;
  if (datatype !== 'FP32') throw badResponse(`"waveform" is ${JSON.stringify(datatype)}, not FP32`, stage);
  if (!('data' in waveform) || !Array.isArray(waveform.data)) {
    throw badResponse('"waveform" carries no JSON data (binary output was not asked for)', stage);
  }
  const data = flatten(waveform.data);
  const shape = 'shape' in waveform && Array.isArray(waveform.shape) ? (waveform.shape as unknown[]) : null;
  if (!shape || !shape.every((d) => Number.isInteger(d) && (d as number) >= 0)) throw badResponse('"waveform" has no valid shape', stage);
  const dims = shape as number[];
  const count = dims.reduce((a, b) => a * b, 1);
  const batchOfOne = dims.length === 1 || (dims.length === 2 && dims[0] === 1);
  if (!batchOfOne) throw badResponse(`"waveform" has shape [${dims.join(', ')}], expected [1, samples]`, stage);
  if (count !== data.length) throw badResponse(`"waveform" has shape [${dims.join(', ')}] but ${data.length} values`, stage);
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) throw badResponse(`"waveform" value ${i} is ${JSON.stringify(v)}`, stage);
    out[i] = v;
  }
  return out;
}
