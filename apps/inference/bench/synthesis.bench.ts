/**
 * Built-in engine benchmark. Figures are relative to a baseline measured in the same run
 * on the same machine: raw eSpeak-NG synthesis of the same text (fresh instance, main
 * thread, one call). "measured" is a full engine job (worker thread, prompt analysis,
 * segmenting, voice matching, resampling, WAV encoding) per mode.
 *
 * Run: pnpm --filter @chorus/inference bench   (or: npx tsx bench/synthesis.bench.ts)
 */
import { resourceUsage } from 'node:process';
import type { EngineInput, PromptAudio } from '../src/engine/engine.ts';
import { ESPEAK_SAMPLE_RATE, EspeakSession, loadEspeakData } from '../src/engines/builtin/espeak.ts';
import { createBuiltinEngine } from '../src/engines/builtin/index.ts';

const REPEATS = 3;

const TEXTS = {
  en:
    'The old lighthouse stood at the edge of the cliff, watching the sea for more than a hundred years. ' +
    'Every night its keeper climbed the narrow stairs, lit the lamp, and wrote a short note in the logbook. ' +
    'Ships came and went, storms rolled in from the west, and the light never failed. ' +
    'When the keeper finally retired, the town decided to keep the lamp burning anyway.',
  zh:
    '老灯塔在悬崖边上站了一百多年，一直守望着大海。每天晚上，看守人都会爬上狭窄的楼梯，点亮灯火，' +
    '然后在日志里写下一段简短的记录。船来了又走，风暴从西边涌来，灯光却从未熄灭。看守人退休以后，镇上的人决定让这盏灯继续亮下去。',
} as const;
type Lang = keyof typeof TEXTS;

const REFERENCE_TRANSCRIPTS: Record<Lang, string> = {
  en: 'I usually take the early train, because the city is still quiet and I can read for a while.',
  zh: '我一般坐早上的火车，因为那时候城里还很安静，我可以看一会儿书。',
};

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const peakRssMb = (): number => resourceUsage().maxRSS / 1024;

/** Raw eSpeak: fresh instance, whole text in one call, on this thread. */
async function baseline(lang: Lang): Promise<{ wallMs: number; audioSec: number }> {
  const walls: number[] = [];
  let audioSec = 0;
  for (let i = 0; i < REPEATS; i++) {
    const started = performance.now();
    const session = await EspeakSession.open(0);
    const audio = session.synthesize(TEXTS[lang], { voice: lang === 'zh' ? 'cmn' : 'en-us', rate: 175, pitch: 50, range: 50 });
    walls.push(performance.now() - started);
    audioSec = audio.length / ESPEAK_SAMPLE_RATE;
  }
  return { wallMs: median(walls), audioSec };
}

/** A real-speech reference voice for the cloning modes (5–6 s of eSpeak speech). */
async function reference(lang: Lang): Promise<PromptAudio> {
  const session = await EspeakSession.open(7);
  const samples = session.synthesize(REFERENCE_TRANSCRIPTS[lang], { voice: lang === 'zh' ? 'cmn+f3' : 'en-us', rate: 160, pitch: 40, range: 60 });
  return { samples, sampleRate: ESPEAK_SAMPLE_RATE };
}

function inputFor(mode: EngineInput['mode'], lang: Lang, prompt: PromptAudio): EngineInput {
  const text = TEXTS[lang];
  switch (mode) {
    case 'zero_shot':
      return { mode, text, prompt, promptText: REFERENCE_TRANSCRIPTS[lang], speed: 1 };
    case 'cross_lingual':
      return { mode, text, prompt, speed: 1 };
    case 'instruct':
      return { mode, text, prompt, instruct: lang === 'zh' ? '用温柔的语气，慢一点说' : 'say it gently and a bit slower', speed: 1 };
    case 'pretrained':
      return { mode, text, speakerId: lang === 'zh' ? 'zh-female' : 'en-male', speed: 1 };
  }
}

await loadEspeakData();
const started = performance.now();
const engine = await createBuiltinEngine();
const startupMs = performance.now() - started;

const rows: string[][] = [];
const header = ['mode', 'lang', 'audio s', 'wall ms', 'RTF', 'baseline ms', 'baseline RTF', 'engine/baseline', 'peak RSS MB'];
const modes: EngineInput['mode'][] = ['zero_shot', 'cross_lingual', 'instruct', 'pretrained'];
try {
  for (const lang of ['en', 'zh'] as const) {
    const base = await baseline(lang);
    rows.push(['eSpeak raw', lang, base.audioSec.toFixed(2), base.wallMs.toFixed(0), (base.wallMs / 1000 / base.audioSec).toFixed(4), base.wallMs.toFixed(0), '', '1.00', peakRssMb().toFixed(0)]);
    const prompt = await reference(lang);
    for (const mode of modes) {
      const input = inputFor(mode, lang, prompt);
      const run = (): Promise<{ durationMs: number }> => engine.run(input, { seed: 1, signal: new AbortController().signal, emit: () => undefined });
      await run(); // warm-up: first use of a voice/dictionary in the thread
      const walls: number[] = [];
      let audioSec = 0;
      for (let i = 0; i < REPEATS; i++) {
        const t0 = performance.now();
        const output = await run();
        walls.push(performance.now() - t0);
        audioSec = output.durationMs / 1000;
      }
      const wallMs = median(walls);
      rows.push([
        mode,
        lang,
        audioSec.toFixed(2),
        wallMs.toFixed(0),
        (wallMs / 1000 / audioSec).toFixed(4),
        base.wallMs.toFixed(0),
        (base.wallMs / 1000 / base.audioSec).toFixed(4),
        (wallMs / base.wallMs).toFixed(2),
        peakRssMb().toFixed(0),
      ]);
    }
  }
} finally {
  await engine.close?.();
}

const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]): string => cells.map((c, i) => (i < 2 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
console.log(`Built-in engine benchmark — median of ${REPEATS} runs after one warm-up; RTF = wall / audio duration.`);
console.log(`Engine startup (worker thread + eSpeak data): ${startupMs.toFixed(0)} ms. Node ${process.version}.`);
console.log(line(header));
for (const r of rows) console.log(line(r));
console.log(`Peak RSS of the whole process (main + worker threads): ${peakRssMb().toFixed(0)} MB.`);
