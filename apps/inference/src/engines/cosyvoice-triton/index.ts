import { resample } from '../../audio/resample.ts';
import { encodeWav16 } from '../../audio/wav.ts';
import { EngineError, throwIfAborted, type Engine, type EngineInput, type EngineOutput, type EngineRunContext } from '../../engine/engine.ts';
import { noteSeedlessRun } from '../remote/seedless-run-notes.ts';
import type { CosyVoiceTritonEngineConfig } from '../config.ts';
import { cosyVoiceEngineInfo, cosyVoicePromptText, outputSampleRate } from '../cosyvoice/cosyvoice-info.ts';
import { cosyVoiceError } from '../cosyvoice/failure-classifier.ts';
import { clip, ERROR_BODY_LIMIT, tritonErrorMessage } from '../remote/error-body.ts';
import { probeGet } from '../remote/probe.ts';
import { RemoteCall } from '../remote/remote-call.ts';
import { refuseUrlCredentials, shownUrl } from '../remote/shown-url.ts';
import { estimateSpeechSeconds, LearnedRatio } from '../remote/speech-estimate.ts';
import { buildInferRequest, parseWaveform, TRITON_REFERENCE_RATE } from './kserve.ts';
import { EstimatedProgress } from './estimated-progress.ts';

export const COSYVOICE_TRITON_RUNTIME = 'Triton Inference Server';

export const COSYVOICE_TRITON_STAGES = [
  { name: 'prompt_preparation', label: 'Resampling the reference to 16 kHz' },
  { name: 'inference', label: 'Waiting for Triton' },
  { name: 'encoding', label: 'Writing the WAV' },
];

/** How often the estimated progress ticks while Triton works. */
const PROGRESS_TICK_MS = 250;

const DECOUPLED_HINT =
  'The model is deployed for streaming (decoupled), which Triton’s HTTP endpoint cannot serve. An admin should rebuild the model repository with DECOUPLED_MODE=False (stage 2 of CosyVoice’s runtime/triton_trtllm/run.sh) and restart Triton.';

/**
 * An engine backed by CosyVoice's Triton / TensorRT-LLM runtime (runtime/triton_trtllm),
 * called over Triton's HTTP/REST endpoint with the KServe v2 JSON protocol. That path only
 * works with the model in offline (non-decoupled) mode, and the model only clones a voice
 * from a reference (zero-shot); it has no seed input and no speed.
 */
export function createCosyVoiceTritonEngine(config: CosyVoiceTritonEngineConfig): Engine {
  if (config.generation === 1) {
    throw new Error(`Engine "${config.id}": CosyVoice's Triton runtime serves CosyVoice 2 and 3 models only (generation is 1).`);
  }
  const info = cosyVoiceEngineInfo(config, {
    kind: 'cosyvoice-triton',
    runtime: COSYVOICE_TRITON_RUNTIME,
    stages: COSYVOICE_TRITON_STAGES,
    runtimeModes: ['zero_shot'],
    reproducible: false,
  });
  const base = config.url.replace(/\/+$/, '');
  const model = encodeURIComponent(config.tritonModel);
  // Messages name the server by origin + path only: userinfo or a query may hold credentials.
  const shown = shownUrl(config.url);
  const target = `Triton at ${shown} (model ${config.tritonModel})`;
  const sampleRate = outputSampleRate(config);
  // Wall seconds per second of audio, learned from finished runs. CosyVoice's README
  // reports an offline real-time factor of 0.06–0.09 on one L20 GPU; start more slowly
  // since GPUs differ and requests queue.
  const wallPerAudioSecond = new LearnedRatio(0.15, 0.01, 5);
  const active = new Set<RemoteCall>();

  async function run(input: EngineInput, ctx: EngineRunContext): Promise<EngineOutput> {
    const { emit, signal } = ctx;
    throwIfAborted(signal);
    let stage = 'prompt_preparation';
    emit({ type: 'stage', name: stage });
    noteSeedlessRun(emit, 'the Triton model', ctx.seed, input.speed);
    if (input.mode !== 'zero_shot') {
      throw new EngineError('MODE_UNSUPPORTED', `The Triton runtime only clones a voice from a reference (zero_shot), not ${input.mode}.`, 'Choose zero-shot, or another engine for this mode.', stage);
    }
    const prompt = input.prompt;
    if (!prompt || prompt.samples.length === 0) {
      throw new EngineError('PROMPT_REQUIRED', 'Mode zero_shot needs reference audio.', 'Upload a 3–10 s recording of the voice to imitate.', stage);
    }
    const transcript = input.promptText?.trim() ?? '';
    if (transcript === '') emit({ type: 'log', level: 'warn', message: 'No transcript of the reference audio: the model clones the voice less faithfully without one.' });
    const reference = await resample(prompt.samples, prompt.sampleRate, TRITON_REFERENCE_RATE);
    throwIfAborted(signal);
    emit({
      type: 'log',
      level: 'debug',
      message: `Reference: ${(prompt.samples.length / prompt.sampleRate).toFixed(2)} s at ${prompt.sampleRate} Hz → ${reference.length} samples at ${TRITON_REFERENCE_RATE} Hz.`,
    });
    const body = JSON.stringify(buildInferRequest(reference, cosyVoicePromptText(config.generation, transcript), input.text));

    stage = 'inference';
    emit({ type: 'stage', name: stage });
    const audioEstimate = estimateSpeechSeconds(input.text);
    const expectedMs = 500 + audioEstimate * wallPerAudioSecond.value * 1000;
    emit({
      type: 'log',
      level: 'debug',
      message:
        `Triton answers only when the whole take is ready, so progress until then is an estimate from the text length ` +
        `(≈${audioEstimate.toFixed(1)} s of audio, expected in ≈${(expectedMs / 1000).toFixed(1)} s).`,
    });
    const url = `${base}/v2/models/${model}/infer`;
    const call = new RemoteCall({ signal, timeoutMs: config.timeoutMs, target, stage: () => stage });
    active.add(call);
    const progress = new EstimatedProgress(expectedMs, call.startedAt);
    emit({ type: 'progress', ...progress.at(performance.now()) });
    const ticker = setInterval(() => {
      const point = progress.next(performance.now());
      if (point) emit({ type: 'progress', ...point });
    }, PROGRESS_TICK_MS);
    try {
      refuseUrlCredentials(config.url, target, stage);
      const response = await call.fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
      if (!response.ok) throw await tritonFailure(call, response, stage);
      const text = await call.text(response);
      clearInterval(ticker);
      const waveform = parseWaveform(text, stage);
      if (waveform.length === 0) {
        throw new EngineError('ENGINE_NO_AUDIO', `${target} answered with an empty waveform.`, 'Check the text has words to speak; if it does, an admin should check Triton’s log.', stage);
      }
      const wallSeconds = (performance.now() - call.startedAt) / 1000;
      const audioSeconds = waveform.length / sampleRate;
      emit({ type: 'progress', ...progress.finish() });
      emit({ type: 'log', level: 'info', message: `Triton returned ${audioSeconds.toFixed(2)} s of audio after ${wallSeconds.toFixed(2)} s.` });
      wallPerAudioSecond.observe(wallSeconds / audioSeconds);

      stage = 'encoding';
      emit({ type: 'stage', name: stage });
      return { wav: encodeWav16(waveform, sampleRate), sampleRate, durationMs: Math.round(audioSeconds * 1000) };
    } finally {
      clearInterval(ticker);
      call.dispose();
      active.delete(call);
    }
  }

  return {
    info,
    run,
    async probe(signal: AbortSignal): Promise<void> {
      refuseUrlCredentials(config.url, target);
      const server = await probeGet(`${base}/v2/health/ready`, target, signal);
      if (server.status !== 200) throw new EngineError('ENGINE_UNAVAILABLE', `Triton at ${shown} is not ready (HTTP ${server.status} on /v2/health/ready).`, 'It may still be loading models; an admin should check its log.');
      const ready = await probeGet(`${base}/v2/models/${model}/ready`, target, signal);
      if (ready.status !== 200) {
        throw new EngineError(
          'ENGINE_UNAVAILABLE',
          `Triton at ${shown} has no ready model "${config.tritonModel}" (HTTP ${ready.status}${tritonErrorMessage(ready.text) ? `: ${clip(tritonErrorMessage(ready.text)!)}` : ''}).`,
          'The model may still be loading, or the engine’s tritonModel does not match the model repository (cosyvoice2 or cosyvoice3).',
        );
      }
      // The HTTP infer endpoint refuses decoupled (streaming) models; say so before a job fails on it.
      const modelConfig = await probeGet(`${base}/v2/models/${model}/config`, target, signal);
      if (modelConfig.status === 200 && isDecoupled(modelConfig.text)) {
        throw new EngineError('ENGINE_UNAVAILABLE', `Model "${config.tritonModel}" on ${shown} runs in decoupled (streaming) mode.`, DECOUPLED_HINT);
      }
    },
    async close(): Promise<void> {
      for (const call of active) call.abort('closed');
    },
  };
}

function isDecoupled(configText: string): boolean {
  try {
    const config: unknown = JSON.parse(configText);
    if (typeof config !== 'object' || config === null || !('model_transaction_policy' in config)) return false;
    const policy = config.model_transaction_policy;
    return typeof policy === 'object' && policy !== null && 'decoupled' in policy && policy.decoupled === true;
  } catch {
    return false;
  }
}

/** A Triton error status (its body is `{"error": "..."}`), as an EngineError. */
async function tritonFailure(call: RemoteCall, response: Response, stage: string): Promise<EngineError> {
  const text = await call.text(response, ERROR_BODY_LIMIT);
  const message = tritonErrorMessage(text) ?? clip(text || '(empty body)');
  const status = `HTTP ${response.status}`;
  if (/decoupled/i.test(message)) return new EngineError('ENGINE_FAILED', `Triton refused the request (${status}): ${clip(message)}.`, DECOUPLED_HINT, stage);
  if (response.status === 503 || /unknown model|is not found|not ready/i.test(message)) {
    return new EngineError('ENGINE_UNAVAILABLE', `Triton cannot run the model (${status}): ${clip(message)}.`, 'The model may not be loaded, or the engine’s tritonModel does not match the model repository; an admin should check.', stage);
  }
  if (response.status >= 400 && response.status < 500 && /unexpected shape|data-type|unexpected inference input|expected \d+ inputs|unable to parse|failed to parse/i.test(message)) {
    return new EngineError(
      'ENGINE_REJECTED',
      `Triton rejected the request (${status}): ${clip(message)}.`,
      'The model’s inputs differ from what CosyVoice’s model repository declares; an admin should compare its config.pbtxt with this adapter.',
      stage,
    );
  }
  return cosyVoiceError(message, { code: 'ENGINE_FAILED', message: `Triton failed (${status}): ${clip(message)}.`, hint: 'Triton’s log has the details; an admin can check it.' }, stage);
}
