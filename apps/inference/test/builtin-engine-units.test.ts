import { describe, expect, it } from 'vitest';
import { PITCH_ANALYSIS_RATE, estimatePitch, toPitchAnalysisRate } from '../src/audio/pitch.ts';
import { resample } from '../src/audio/resample.ts';
import { detectSpeechActivity, speechRms } from '../src/audio/speech-activity.ts';
import { changeTempoAndPitch } from '../src/audio/time-pitch.ts';
import { escapeSsml } from '../src/engines/builtin/espeak.ts';
import { readInstruction } from '../src/engines/builtin/instruct-style.ts';
import { seededRandom } from '../src/engines/builtin/seeded-random.ts';
import { countSyllables, detectLanguage, normalizeText, runTextFrontend, segmentText } from '../src/engines/builtin/text-frontend.ts';
import { BASE_VOICES, chooseBaseVoice, pitchSettingFor } from '../src/engines/builtin/voice-calibration.ts';

/** Harmonic tone with F0 vibrato and a 4 Hz on/off envelope (speech-like for pitch and activity). */
function harmonicTone(f0: number, sampleRate: number, seconds: number): Float32Array {
  const out = new Float32Array(Math.round(sampleRate * seconds));
  let phase = 0;
  for (let i = 0; i < out.length; i++) {
    const t = i / sampleRate;
    phase += (2 * Math.PI * f0 * (1 + 0.05 * Math.sin(2 * Math.PI * 0.7 * t))) / sampleRate;
    let v = 0;
    for (let h = 1; h <= 10; h++) v += Math.sin(h * phase) / h;
    out[i] = 0.2 * v * Math.max(0, Math.sin(2 * Math.PI * 2 * t));
  }
  return out;
}

describe('text frontend', () => {
  it('normalises width, spaces and control characters; keeps paragraphs', () => {
    expect(normalizeText('  Ｈｅｌｌｏ\t world\u200b!\r\n\r\n  Next   line\nsame paragraph ')).toBe('Hello world!\nNext line same paragraph');
  });

  it('detects Chinese by any Han character', () => {
    expect(detectLanguage('Hello world')).toBe('en');
    expect(detectLanguage('我用 Python')).toBe('zh');
  });

  it('splits at sentence punctuation, not inside numbers', () => {
    const { segments } = runTextFrontend('Pi is 3.14 today. Really? Yes! 你好。再见；好的');
    expect(segments.map((s) => s.text)).toEqual(['Pi is 3.14 today.', 'Really?', 'Yes!', '你好。', '再见;', '好的']);
    expect(segments.map((s) => s.boundary)).toEqual(['sentence', 'sentence', 'sentence', 'sentence', 'sentence', 'sentence']);
  });

  it('packs long sentences clause by clause under the limit', () => {
    const sentence = '这是第一个比较长的分句，这是第二个比较长的分句，这是第三个比较长的分句，这是第四个比较长的分句。';
    const { segments } = runTextFrontend(sentence);
    expect(segments.length).toBeGreaterThan(1);
    for (const s of segments) expect([...s.text].length).toBeLessThanOrEqual(40);
    expect(segments.map((s) => s.text).join('')).toBe(normalizeText(sentence));
    expect(segments[0]!.boundary).toBe('clause');
    expect(segments[segments.length - 1]!.boundary).toBe('sentence');
  });

  it('hard-splits a clause with no punctuation at spaces', () => {
    const words = Array.from({ length: 60 }, (_, i) => `word${i}`).join(' ');
    const segments = segmentText(words, 'en', 50);
    expect(segments.length).toBeGreaterThan(5);
    for (const s of segments) expect(s.text.length).toBeLessThanOrEqual(50);
  });

  it('drops segments with nothing to speak', () => {
    expect(runTextFrontend('… ！？ ...').segments).toEqual([]);
  });

  it('counts syllables roughly', () => {
    expect(countSyllables('你好世界')).toBe(4);
    expect(countSyllables('banana')).toBe(3);
    expect(countSyllables('make')).toBe(1);
    expect(countSyllables('table')).toBe(2);
  });

  it('escapes SSML markup', () => {
    expect(escapeSsml('a < b & c > d')).toBe('a &lt; b &amp; c &gt; d');
  });
});

describe('instruction reading', () => {
  it('reads English and Chinese style words with intensity', () => {
    const en = readInstruction('Speak very slowly and a bit louder');
    expect(en.understood).toEqual(['slow ×1.5', 'loud ×0.5']);
    expect(en.delta.rateFactor).toBeCloseTo(0.75 ** 1.5, 5);
    expect(en.delta.volumeDb).toBeCloseTo(3, 5);
    const zh = readInstruction('用温柔的语气说，慢一点');
    expect(zh.understood).toEqual(['gentle', 'slow ×0.5']);
    expect(zh.ignored).toEqual([]);
  });

  it('prefers the longest word (高兴 is happy, not high)', () => {
    expect(readInstruction('高兴').understood).toEqual(['happy']);
    expect(readInstruction('高一点').understood).toEqual(['high ×0.5']);
  });

  it('reports unknown phrases as written and negations separately', () => {
    const r = readInstruction('speak like a pirate, not too fast; 像海盗一样');
    expect(r.ignored).toEqual(['like a pirate', '像海盗一样']);
    expect(r.negated).toEqual(['not too fast']);
    expect(r.understood).toEqual([]);
    expect(r.delta.rateFactor).toBe(1);
  });

  it('caps extreme combinations', () => {
    const r = readInstruction('slow, very very slow, sad, tired, calm, gentle');
    expect(r.delta.rateFactor).toBeGreaterThanOrEqual(0.55);
    expect(r.capped).toBe(true);
  });
});

describe('seeded random', () => {
  it('is deterministic per seed and label, and differs between them', () => {
    const draw = (seed: number, label: string): number[] => {
      const r = seededRandom(seed, label);
      return [r.next(), r.next(), r.next()];
    };
    expect(draw(1, 'a')).toEqual(draw(1, 'a'));
    expect(draw(1, 'a')).not.toEqual(draw(2, 'a'));
    expect(draw(1, 'a')).not.toEqual(draw(1, 'b'));
    for (const v of draw(4294967295, 'x')) expect(v >= 0 && v < 1).toBe(true);
  });
});

describe('audio analysis', () => {
  it.each([70, 110, 180, 300])('measures the median F0 of a %d Hz harmonic tone within 3%%', async (f0) => {
    const tone = await resample(harmonicTone(f0, 22050, 3), 22050, PITCH_ANALYSIS_RATE);
    const estimate = estimatePitch(tone, PITCH_ANALYSIS_RATE, detectSpeechActivity(tone, PITCH_ANALYSIS_RATE));
    expect(estimate.medianHz).not.toBeNull();
    expect(Math.abs(estimate.medianHz! / f0 - 1)).toBeLessThan(0.03);
  });

  it('finds speech activity and its loudness', () => {
    const tone = harmonicTone(150, 16000, 2);
    const activity = detectSpeechActivity(tone, 16000);
    // The envelope is on half of the time; bridging short gaps counts a little more.
    expect(activity.activeMs).toBeGreaterThan(700);
    expect(activity.activeMs).toBeLessThan(1500);
    expect(speechRms(activity)).toBeGreaterThan(0.05);
  });

  it('resamples to the exact length', async () => {
    const x = harmonicTone(200, 22050, 1);
    expect((await resample(x, 22050, 24000)).length).toBe(24000);
    expect((await resample(x, 22050, 8000)).length).toBe(8000);
  });

  it('shifts pitch and tempo independently', async () => {
    const x = harmonicTone(150, 22050, 2);
    const higher = await changeTempoAndPitch(x, 22050, 1, 1.2);
    expect(Math.abs(higher.length / x.length - 1)).toBeLessThan(0.02);
    const low = await toPitchAnalysisRate(higher, 22050);
    const f0 = estimatePitch(low, PITCH_ANALYSIS_RATE, detectSpeechActivity(low, PITCH_ANALYSIS_RATE)).medianHz!;
    expect(f0 / 150).toBeGreaterThan(1.15);
    const faster = await changeTempoAndPitch(x, 22050, 1.25, 1);
    expect(faster.length / x.length).toBeCloseTo(0.8, 1);
  });
});

describe('voice calibration', () => {
  it('inverts the F0 tables and picks a register by target pitch', () => {
    for (const voice of BASE_VOICES) {
      const mid = voice.f0Hz[5]!;
      expect(pitchSettingFor(voice, mid).pitch).toBeCloseTo(50, 5);
      expect(pitchSettingFor(voice, voice.f0Hz[0]! * 0.5).clamped).toBe(true);
    }
    expect(chooseBaseVoice('en', 100).register).toBe('low');
    expect(chooseBaseVoice('en', 230).register).toBe('high');
    expect(chooseBaseVoice('zh', 110).espeakVoice).toBe('cmn');
    expect(chooseBaseVoice('zh', 250).espeakVoice).toBe('cmn+f3');
  });
});
