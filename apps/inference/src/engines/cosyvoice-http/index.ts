import { encodeWav16 } from '../../audio/wav.ts';
import { EngineError, throwIfAborted, type Engine, type EngineInput, type EngineOutput, type EngineRunContext } from '../../engine/engine.ts';
import { noteSeedlessRun } from '../remote/seedless-run-notes.ts';
import type { CosyVoiceHttpEngineConfig } from '../config.ts';
import { cosyVoiceEngineInfo, outputSampleRate } from '../cosyvoice/cosyvoice-info.ts';
import { cosyVoiceError } from '../cosyvoice/failure-classifier.ts';
import { capitalize, clip, ERROR_BODY_LIMIT, fastApiDetail, pythonExceptionLine } from '../remote/error-body.ts';
import { probeGet } from '../remote/probe.ts';
import { ConnectionLostError, RemoteCall } from '../remote/remote-call.ts';
import { refuseUrlCredentials, shownUrl } from '../remote/shown-url.ts';
import { estimateSpeechSeconds, LearnedRatio } from '../remote/speech-estimate.ts';
import { buildFastApiRequest } from './fastapi-request.ts';
import { Int16PcmCollector } from './pcm.ts';
import { StreamProgress } from './stream-progress.ts';

export const COSYVOICE_HTTP_RUNTIME = 'the CosyVoice FastAPI runtime';

export const COSYVOICE_HTTP_STAGES = [
  { name: 'upload', label: 'Sending the request' },
  { name: 'synthesis', label: 'Receiving audio' },
  { name: 'encoding', label: 'Writing the WAV' },
];

const MID_STREAM_HINT =
  'The model raised an error while synthesizing; the Python traceback is in the server’s log (common causes: the GPU ran out of memory, ' +
  'reference audio over 30 s, a CosyVoice3 model configured as another generation). Try again, or with a shorter text.';

/**
 * An engine backed by CosyVoice's FastAPI runtime (runtime/python/fastapi/server.py):
 * one multipart POST per job, answered by a stream of raw int16 PCM, one burst per text
 * segment. The runtime takes no seed and no speed, so runs are not reproducible.
 */
export function createCosyVoiceHttpEngine(config: CosyVoiceHttpEngineConfig): Engine {
  const info = cosyVoiceEngineInfo(config, {
    kind: 'cosyvoice-http',
    runtime: COSYVOICE_HTTP_RUNTIME,
    stages: COSYVOICE_HTTP_STAGES,
    runtimeModes: ['zero_shot', 'cross_lingual', 'instruct', 'pretrained'],
    reproducible: false,
  });
  const base = config.url.replace(/\/+$/, '');
  // Messages name the server by origin + path only: userinfo or a query may hold credentials.
  const shown = shownUrl(config.url);
  const target = `${COSYVOICE_HTTP_RUNTIME} at ${shown}`;
  const sampleRate = outputSampleRate(config);
  // Real audio seconds ÷ estimated seconds over past runs: this voice/model's actual pace.
  const pace = new LearnedRatio(1, 0.5, 2);
  const active = new Set<RemoteCall>();

  async function run(input: EngineInput, ctx: EngineRunContext): Promise<EngineOutput> {
    const { emit, signal } = ctx;
    throwIfAborted(signal);
    let stage = 'upload';
    emit({ type: 'stage', name: stage });
    noteSeedlessRun(emit, COSYVOICE_HTTP_RUNTIME, ctx.seed, input.speed);

    const request = buildFastApiRequest(config.generation, input, stage);
    const promptNote = request.promptWav
      ? `, prompt_wav ${request.promptWav.seconds.toFixed(2)} s at ${request.promptWav.sampleRate} Hz as a ${Math.ceil(request.promptWav.bytes / 1024)} KiB 16-bit WAV`
      : '';
    emit({ type: 'log', level: 'debug', message: `POST ${shown}${request.path} (${Object.entries(request.fields).map(([k, v]) => `${k} ${v.length} chars`).join(', ')}${promptNote}).` });

    const rawEstimate = estimateSpeechSeconds(input.text);
    const estimate = rawEstimate * pace.value;
    const pcm = new Int16PcmCollector();
    const received = (): number => pcm.sampleCount / sampleRate;
    const call = new RemoteCall({
      signal,
      timeoutMs: config.timeoutMs,
      stallTimeoutMs: config.stallTimeoutMs,
      target,
      stage: () => stage,
      describeProgress: () => (stage === 'upload' ? ' (no answer to the request)' : pcm.sampleCount > 0 ? ` after ${received().toFixed(1)} s of audio` : ' before any audio'),
    });
    active.add(call);
    try {
      refuseUrlCredentials(config.url, target, stage);
      const response = await call.fetch(base + request.path, { method: 'POST', body: request.form });
      if (!response.ok) throw await httpFailure(call, response, `${shown}${request.path}`, stage);

      stage = 'synthesis';
      emit({ type: 'stage', name: stage });
      const progress = new StreamProgress(estimate, call.startedAt);
      emit({ type: 'progress', ...progress.update(0, performance.now())! });
      let firstAudioAt: number | null = null;
      try {
        for await (const chunk of call.chunks(response)) {
          pcm.push(chunk);
          const now = performance.now();
          if (firstAudioAt === null && pcm.sampleCount > 0) {
            firstAudioAt = now;
            emit({ type: 'log', level: 'info', message: `First audio after ${((now - call.startedAt) / 1000).toFixed(2)} s.` });
          }
          const point = progress.update(received(), now);
          if (point) emit({ type: 'progress', ...point });
        }
      } catch (err) {
        if (err instanceof ConnectionLostError) {
          throw new EngineError(
            'ENGINE_FAILED',
            pcm.sampleCount > 0
              ? `The CosyVoice server closed the connection mid-stream after ${received().toFixed(1)} s of audio (${err.reason}).`
              : `The CosyVoice server closed the connection before sending any audio (${err.reason}).`,
            MID_STREAM_HINT,
            stage,
          );
        }
        throw err;
      }
      const wallSeconds = (performance.now() - call.startedAt) / 1000;
      if (pcm.sampleCount === 0) {
        throw new EngineError(
          'ENGINE_NO_AUDIO',
          `${capitalize(target)} answered with no audio at all${pcm.byteCount > 0 ? ` (${pcm.byteCount} byte)` : ''}.`,
          'CosyVoice skips text that is only punctuation or symbols; check the text has words to speak. If it does, an admin should check the server log.',
          stage,
        );
      }
      if (pcm.hasDanglingByte) emit({ type: 'log', level: 'warn', message: 'The audio stream ended inside a sample (an odd number of bytes); the last byte was dropped.' });
      emit({ type: 'progress', ...progress.finish(received()) });
      emit({
        type: 'log',
        level: 'debug',
        message: `Received ${received().toFixed(2)} s of audio (${pcm.byteCount} bytes at ${sampleRate} Hz) in ${wallSeconds.toFixed(2)} s; the text suggested ${estimate.toFixed(1)} s.`,
      });
      pace.observe(received() / rawEstimate);

      stage = 'encoding';
      emit({ type: 'stage', name: stage });
      const samples = pcm.toFloat32();
      const wav = encodeWav16(samples, sampleRate);
      return { wav, sampleRate, durationMs: Math.round((samples.length / sampleRate) * 1000) };
    } finally {
      call.dispose();
      active.delete(call);
    }
  }

  return {
    info,
    run,
    async probe(signal: AbortSignal): Promise<void> {
      refuseUrlCredentials(config.url, target);
      // FastAPI serves /docs for every app: any HTTP answer means the server is up.
      await probeGet(`${base}/docs`, target, signal);
    },
    async close(): Promise<void> {
      for (const call of active) call.abort('closed');
    },
  };
}

/** An HTTP error status from the runtime, as an EngineError. */
async function httpFailure(call: RemoteCall, response: Response, url: string, stage: string): Promise<EngineError> {
  const text = await call.text(response, ERROR_BODY_LIMIT);
  const status = `HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`;
  if (response.status === 404 || response.status === 405) {
    return new EngineError(
      'ENGINE_REJECTED',
      `${url} does not exist on that server (${status}).`,
      'The engine URL must point at CosyVoice’s runtime/python/fastapi/server.py (older versions lack /inference_instruct2); an admin should check it.',
      stage,
    );
  }
  if (response.status >= 400 && response.status < 500) {
    const detail = fastApiDetail(text) ?? clip(text || '(empty body)');
    return new EngineError(
      'ENGINE_REJECTED',
      `The CosyVoice server rejected the request (${status}): ${clip(detail)}.`,
      'Chorus and the runtime disagree about the request; the server may run a different version of server.py than this adapter expects. An admin should compare them.',
      stage,
    );
  }
  if (response.status === 502 || response.status === 503 || response.status === 504) {
    return new EngineError('ENGINE_UNAVAILABLE', `The CosyVoice server is not available (${status}): ${clip(text || '(empty body)')}.`, 'A proxy in front of the server could not reach it, or it is still starting. Try again later.', stage);
  }
  const exception = pythonExceptionLine(text);
  return cosyVoiceError(
    text,
    exception
      ? { code: 'ENGINE_FAILED', message: `The CosyVoice server failed: ${clip(exception)}`, hint: 'The full traceback is in the server’s log; an admin can check it.' }
      : {
          code: 'ENGINE_FAILED',
          message: `The CosyVoice server failed (${status}) without details${text ? `: ${clip(text, 120)}` : ''}.`,
          hint: 'The Python traceback is in the server’s console log. A common cause is reference audio the server cannot read or below 16 kHz.',
        },
    stage,
  );
}
