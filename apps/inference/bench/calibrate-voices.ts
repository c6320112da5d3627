/**
 * Measures what eSpeak-NG actually produces for each base voice, to refresh the tables in
 * src/engines/builtin/voice-calibration.ts: median F0 per `pitch` setting and speaking rate
 * (syllables per second of speech) at rate 175. Run: npx tsx bench/calibrate-voices.ts
 */
import { PITCH_ANALYSIS_RATE, estimatePitch, toPitchAnalysisRate } from '../src/audio/pitch.ts';
import { detectSpeechActivity } from '../src/audio/speech-activity.ts';
import { estimateSyllableRate } from '../src/audio/syllable-rate.ts';
import { ESPEAK_SAMPLE_RATE, EspeakSession } from '../src/engines/builtin/espeak.ts';
import { countSyllables } from '../src/engines/builtin/text-frontend.ts';

const TEXTS = {
  en: 'The weather was lovely this morning, so we walked along the river and talked about our plans for the summer.',
  zh: '今天早上天气很好，我们沿着河边散步，聊了聊今年夏天的计划。',
};
const VOICES = [
  { voice: 'en-us', lang: 'en' },
  { voice: 'en-us+f3', lang: 'en' },
  { voice: 'cmn', lang: 'zh' },
  { voice: 'cmn+f3', lang: 'zh' },
] as const;
const PITCHES = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99];

for (const { voice, lang } of VOICES) {
  const text = TEXTS[lang];
  const f0: number[] = [];
  for (const pitch of PITCHES) {
    const session = await EspeakSession.open(0);
    const audio = await toPitchAnalysisRate(session.synthesize(text, { voice, rate: 175, pitch, range: 50 }), ESPEAK_SAMPLE_RATE);
    const activity = detectSpeechActivity(audio, PITCH_ANALYSIS_RATE);
    f0.push(Math.round(estimatePitch(audio, PITCH_ANALYSIS_RATE, activity).medianHz ?? 0));
  }
  const session = await EspeakSession.open(0);
  const audio = session.synthesize(text, { voice, rate: 175, pitch: 50, range: 50 });
  const activity = detectSpeechActivity(audio, ESPEAK_SAMPLE_RATE);
  const transcriptRate = countSyllables(text) / (activity.activeMs / 1000);
  const nucleiRate = estimateSyllableRate(audio, ESPEAK_SAMPLE_RATE, activity).syllablesPerSecond;
  console.log(
    `${voice.padEnd(9)} f0Hz: [${f0.join(', ')}]  syl/s @175: transcript ${transcriptRate.toFixed(2)}, nuclei ${nucleiRate.toFixed(2)}`,
  );
}
