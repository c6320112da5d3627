import { describe, expect, it } from 'vitest';
import { Int16PcmCollector } from '../src/engines/cosyvoice-http/pcm.ts';
import { StreamProgress } from '../src/engines/cosyvoice-http/stream-progress.ts';
import { EstimatedProgress } from '../src/engines/cosyvoice-triton/estimated-progress.ts';
import { fastApiDetail, pythonExceptionLine, tritonErrorMessage } from '../src/engines/remote/error-body.ts';
import { describeNetworkError } from '../src/engines/remote/network-error.ts';
import { estimateSpeechSeconds, LearnedRatio } from '../src/engines/remote/speech-estimate.ts';

describe('Int16PcmCollector', () => {
  const le = (values: number[]): Uint8Array => new Uint8Array(new Int16Array(values).buffer);

  it('reassembles samples split across reads at any byte offset', () => {
    const values = [0, 1, -1, 32767, -32768, 12345, -4321, 256, -256];
    const bytes = le(values);
    for (const cuts of [[1], [3, 4], [1, 2, 3, 5, 7], [17]]) {
      const pcm = new Int16PcmCollector();
      let from = 0;
      for (const cut of [...cuts, bytes.length]) {
        pcm.push(bytes.subarray(from, cut));
        from = cut;
      }
      expect(pcm.sampleCount).toBe(values.length);
      expect(pcm.hasDanglingByte).toBe(false);
      expect(Array.from(pcm.toFloat32(), (x) => x * 32768)).toEqual(values);
    }
  });

  it('keeps a dangling odd byte out of the samples', () => {
    const pcm = new Int16PcmCollector();
    pcm.push(new Uint8Array([0x01, 0x00, 0x02]));
    expect(pcm.sampleCount).toBe(1);
    expect(pcm.hasDanglingByte).toBe(true);
    expect(pcm.byteCount).toBe(3);
  });
});

describe('StreamProgress', () => {
  it('counts tenths of a second against the estimate, holds at 95 % past it, and ends at total', () => {
    const p = new StreamProgress(2, 0);
    expect(p.update(0, 100)).toEqual({ step: 0, total: 20, etaMs: null });
    expect(p.update(0.5, 1000)).toEqual({ step: 5, total: 20, etaMs: 3000 });
    expect(p.update(0.51, 1001)).toBeNull();
    const late = p.update(3, 2000)!;
    expect(late.step).toBe(30);
    expect(late.step / late.total).toBeLessThanOrEqual(0.95);
    expect(p.finish(3.04)).toEqual({ step: 31, total: 31, etaMs: 0 });
  });
});

describe('EstimatedProgress', () => {
  it('is linear to 90 % at the expected time, then creeps below 100 %, never backwards', () => {
    const p = new EstimatedProgress(1000, 0);
    expect(p.at(500)).toEqual({ step: 450, total: 1000, etaMs: 500 });
    expect(p.at(1000).step).toBe(900);
    const later = p.at(60_000);
    expect(later.step).toBeGreaterThan(980);
    expect(later.step).toBeLessThan(1000);
    expect(later.etaMs).toBeNull();
    expect(p.at(10).step).toBe(later.step);
    expect(p.finish()).toEqual({ step: 1000, total: 1000, etaMs: 0 });
  });
});

describe('estimateSpeechSeconds', () => {
  it('prices scripts differently and ignores markup', () => {
    expect(estimateSpeechSeconds('你好世界')).toBeCloseTo(1, 5);
    expect(estimateSpeechSeconds('你好世界。')).toBeCloseTo(1.35, 5);
    expect(estimateSpeechSeconds('[laughter]你好<strong>世界</strong>')).toBeCloseTo(1, 5);
    const english = estimateSpeechSeconds('The quick brown fox jumps over the lazy dog.');
    expect(english).toBeGreaterThan(2.5);
    expect(english).toBeLessThan(3.5);
    expect(estimateSpeechSeconds('Pi is 3.14.')).toBeCloseTo(4 * 0.075 + 3 * 0.28 + 0.35, 5);
    expect(estimateSpeechSeconds('!!!')).toBe(0.5);
  });

  it('LearnedRatio starts from the first observation, then smooths and clamps', () => {
    const r = new LearnedRatio(1, 0.5, 2);
    r.observe(1.2);
    expect(r.value).toBeCloseTo(1.2);
    r.observe(10);
    expect(r.value).toBeCloseTo(1.2 * 0.7 + 2 * 0.3);
    r.observe(Number.NaN);
    expect(r.value).toBeCloseTo(1.44);
  });
});

describe('error bodies', () => {
  it('finds the exception line of the last traceback', () => {
    const body = [
      'Traceback (most recent call last):',
      '  File "/x/server.py", line 60, in inference_zero_shot',
      '    prompt_speech_16k = load_wav(prompt_wav.file, 16000)',
      'AssertionError: wav sample rate 8000 must be greater than 16000',
      '',
    ].join('\n');
    expect(pythonExceptionLine(body)).toBe('AssertionError: wav sample rate 8000 must be greater than 16000');
    expect(pythonExceptionLine('Internal Server Error')).toBeNull();
  });

  it('reads FastAPI’s detail and Triton’s error', () => {
    expect(fastApiDetail('{"detail":[{"type":"missing","loc":["body","spk_id"],"msg":"Field required","input":null}]}')).toBe('spk_id: Field required');
    expect(fastApiDetail('{"detail":"Not Found"}')).toBe('Not Found');
    expect(fastApiDetail('nope')).toBeNull();
    expect(tritonErrorMessage('{"error":"boom"}')).toBe('boom');
    expect(tritonErrorMessage('<html>')).toBeNull();
  });

  it('names network failures from undici’s cause chain', () => {
    const refused = new TypeError('fetch failed', { cause: Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' }) });
    expect(describeNetworkError(refused)).toMatchObject({ code: 'ECONNREFUSED', reason: 'connection refused (nothing listens on that port) (ECONNREFUSED)' });
    const aggregate = new TypeError('fetch failed', { cause: new AggregateError([Object.assign(new Error('x'), { code: 'ENOTFOUND' })]) });
    expect(describeNetworkError(aggregate).reason).toBe('the host name does not resolve (ENOTFOUND)');
    expect(describeNetworkError(new TypeError('fetch failed', { cause: new Error('bad port') })).reason).toMatch(/blocked ports/);
  });
});
