/**
 * Instruct mode: turn a free-text style instruction (English or Chinese) into prosody
 * changes eSpeak can realise. Only listed words are understood; everything else is
 * reported back so the job log can say exactly what was ignored.
 */

export interface ProsodyDelta {
  /** Multiplies the speaking rate. */
  rateFactor: number;
  /** Added to the target F0, in semitones. */
  pitchSemitones: number;
  /** Multiplies the intonation spread (eSpeak `range`). */
  rangeFactor: number;
  /** Added to the output loudness, dB. */
  volumeDb: number;
  /** Use eSpeak's whisper variant (unvoiced). */
  whisper: boolean;
}

export const NEUTRAL_DELTA: ProsodyDelta = { rateFactor: 1, pitchSemitones: 0, rangeFactor: 1, volumeDb: 0, whisper: false };

interface StyleEntry {
  label: string;
  en: readonly string[];
  zh: readonly string[];
  delta: Partial<ProsodyDelta>;
}

/** Deltas are modest on purpose: eSpeak gets unnatural quickly beyond them. */
const STYLES: readonly StyleEntry[] = [
  { label: 'gentle', en: ['gentle', 'gently', 'soft', 'softly', 'tender', 'tenderly', 'warm', 'warmly', 'sweet', 'sweetly'], zh: ['温柔', '轻柔', '柔和', '温和', '亲切', '甜美'], delta: { rateFactor: 0.92, pitchSemitones: 0.5, rangeFactor: 0.8, volumeDb: -3 } },
  { label: 'excited', en: ['excited', 'excitedly', 'enthusiastic', 'enthusiastically', 'thrilled'], zh: ['兴奋', '激动', '热情'], delta: { rateFactor: 1.12, pitchSemitones: 2, rangeFactor: 1.5, volumeDb: 3 } },
  { label: 'happy', en: ['happy', 'happily', 'cheerful', 'cheerfully', 'joyful', 'joyfully', 'glad'], zh: ['开心', '高兴', '快乐', '愉快', '欢快'], delta: { rateFactor: 1.06, pitchSemitones: 1.5, rangeFactor: 1.3, volumeDb: 1 } },
  { label: 'sad', en: ['sad', 'sadly', 'sorrowful', 'unhappy', 'melancholy', 'mournful'], zh: ['悲伤', '难过', '伤心', '忧伤', '沮丧'], delta: { rateFactor: 0.85, pitchSemitones: -1.5, rangeFactor: 0.6, volumeDb: -4 } },
  { label: 'angry', en: ['angry', 'angrily', 'furious', 'furiously', 'mad'], zh: ['生气', '愤怒', '恼火'], delta: { rateFactor: 1.08, pitchSemitones: 1, rangeFactor: 1.3, volumeDb: 5 } },
  { label: 'calm', en: ['calm', 'calmly', 'relaxed', 'peaceful', 'peacefully', 'steady'], zh: ['平静', '冷静', '沉稳', '平和', '淡定'], delta: { rateFactor: 0.93, pitchSemitones: -0.5, rangeFactor: 0.7, volumeDb: -1 } },
  { label: 'serious', en: ['serious', 'seriously', 'solemn', 'solemnly', 'formal'], zh: ['严肃', '庄重', '正式'], delta: { rateFactor: 0.95, pitchSemitones: -0.5, rangeFactor: 0.8 } },
  { label: 'tired', en: ['tired', 'sleepy', 'weary'], zh: ['疲惫', '困倦', '累'], delta: { rateFactor: 0.85, pitchSemitones: -1, rangeFactor: 0.6, volumeDb: -3 } },
  { label: 'expressive', en: ['expressive', 'expressively', 'lively', 'dramatic', 'dramatically', 'animated'], zh: ['生动', '活泼', '夸张', '有感情', '抑扬顿挫'], delta: { rateFactor: 1.03, rangeFactor: 1.5 } },
  { label: 'monotone', en: ['monotone', 'monotonous', 'flat', 'robotic'], zh: ['单调', '平淡', '机械'], delta: { rangeFactor: 0.3 } },
  { label: 'slow', en: ['slow', 'slowly', 'slower'], zh: ['缓慢', '慢慢', '慢'], delta: { rateFactor: 0.75 } },
  { label: 'fast', en: ['fast', 'faster', 'quick', 'quickly', 'rapid', 'rapidly', 'hurried', 'hurriedly'], zh: ['快速', '急促', '迅速', '快'], delta: { rateFactor: 1.3 } },
  { label: 'whisper', en: ['whisper', 'whispering', 'whispered', 'whispers'], zh: ['耳语', '悄悄话', '悄悄', '低语'], delta: { whisper: true, rateFactor: 0.95, volumeDb: -6 } },
  { label: 'quiet', en: ['quiet', 'quietly', 'hushed'], zh: ['小声', '轻声', '轻轻'], delta: { volumeDb: -8, rangeFactor: 0.85 } },
  { label: 'loud', en: ['loud', 'loudly', 'louder', 'shout', 'shouting', 'yell', 'yelling', 'booming'], zh: ['大声', '响亮', '喊'], delta: { volumeDb: 6, rangeFactor: 1.15, pitchSemitones: 0.5 } },
  { label: 'deep', en: ['deep', 'deeper', 'low', 'lower', 'low-pitched', 'bass'], zh: ['低沉', '低音', '浑厚', '低'], delta: { pitchSemitones: -3 } },
  { label: 'high', en: ['high', 'higher', 'high-pitched', 'squeaky'], zh: ['高音', '高亢', '尖细', '高'], delta: { pitchSemitones: 3 } },
];

const INTENSIFIERS: Record<string, number> = {
  very: 1.5, really: 1.5, extremely: 1.8, super: 1.5, much: 1.5, more: 1.5, so: 1.5,
  slightly: 0.5, somewhat: 0.5, bit: 0.5, little: 0.5,
  非常: 1.5, 很: 1.5, 特别: 1.5, 极其: 1.8, 十分: 1.5, 超级: 1.5, 更: 1.5, 更加: 1.5, 格外: 1.5,
  稍微: 0.5, 稍: 0.5, 有点: 0.5, 有些: 0.5, 一点: 0.5, 一些: 0.5, 略: 0.5, 略微: 0.5,
};

const NEGATIONS = new Set(['not', "don't", 'dont', 'no', 'never', 'without', '不要', '不用', '别', '不', '没有']);

/** Words that carry no style: verbs of speaking, articles, "voice", "tone", 的/地/说/语气 … */
const FILLERS = new Set([
  'say', 'says', 'said', 'speak', 'speaks', 'speaking', 'spoken', 'read', 'reading', 'talk', 'talking', 'sound', 'sounding', 'sounds',
  'it', 'this', 'that', 'these', 'the', 'a', 'an', 'in', 'with', 'and', 'but', 'as', 'of', 'to', 'for', 'me', 'us', 'you', 'be', 'is',
  'are', 'please', 'voice', 'tone', 'way', 'manner', 'style', 'too', 'pitch', 'pitched', 'speed', 'pace', 'volume', 'text', 'sentence',
  'words', 'bit', 'little',
  '用', '以', '的', '地', '得', '说', '说话', '讲', '读', '念', '朗读', '语气', '口吻', '声音', '嗓音', '语调', '语速', '音调', '音量', '方式',
  '风格', '一下', '请', '着', '带', '带着', '点', '些', '来', '把', '这', '这句话', '句', '话', '一种', '种', '太', '跟', '和', '并且', '而且',
  '又', '感觉', '情绪', '一个', '个', '地说', '些许', '然后', '再',
]);

type TokenKind = 'style' | 'intensifier' | 'negation' | 'filler' | 'unknown';

interface Token {
  kind: TokenKind;
  text: string;
  start: number;
  end: number;
  style?: StyleEntry;
}

const STYLE_BY_WORD = new Map<string, StyleEntry>();
for (const style of STYLES) for (const word of [...style.en, ...style.zh]) STYLE_BY_WORD.set(word, style);

function classify(word: string): Omit<Token, 'start' | 'end' | 'text'> {
  const style = STYLE_BY_WORD.get(word);
  if (style) return { kind: 'style', style };
  if (word in INTENSIFIERS) return { kind: 'intensifier' };
  if (NEGATIONS.has(word)) return { kind: 'negation' };
  if (FILLERS.has(word)) return { kind: 'filler' };
  return { kind: 'unknown' };
}

/** Longest dictionary words in a run of Han characters (max 4 characters). */
const HAN_DICTIONARY = new Set([...STYLE_BY_WORD.keys(), ...Object.keys(INTENSIFIERS), ...NEGATIONS, ...FILLERS].filter((w) => /\p{Script=Han}/u.test(w)));

/**
 * Tokens plus the positions that break a phrase (punctuation): Latin words by spaces,
 * Han runs by greedy longest match against the known words (an unmatched character is
 * its own unknown token).
 */
function tokenize(instruction: string): { tokens: Token[]; breaks: Set<number> } {
  const tokens: Token[] = [];
  const breaks = new Set<number>();
  const pattern = /([a-zA-Z]+(?:['-][a-zA-Z]+)*)|(\p{Script=Han}+)|([\p{L}\p{N}]+)|([^\s])/gu;
  for (const m of instruction.matchAll(pattern)) {
    const start = m.index;
    if (m[1] !== undefined) {
      tokens.push({ ...classify(m[1].toLowerCase()), text: m[1], start, end: start + m[1].length });
    } else if (m[2] !== undefined) {
      const run = m[2];
      let i = 0;
      while (i < run.length) {
        let length = Math.min(4, run.length - i);
        while (length > 1 && !HAN_DICTIONARY.has(run.slice(i, i + length))) length--;
        const word = run.slice(i, i + length);
        tokens.push({ ...classify(word), text: word, start: start + i, end: start + i + length });
        i += length;
      }
    } else if (m[3] !== undefined) {
      tokens.push({ kind: 'unknown', text: m[3], start, end: start + m[3].length });
    } else {
      breaks.add(tokens.length);
    }
  }
  return { tokens, breaks };
}

function scaleDelta(delta: Partial<ProsodyDelta>, amount: number): Partial<ProsodyDelta> {
  return {
    rateFactor: (delta.rateFactor ?? 1) ** amount,
    pitchSemitones: (delta.pitchSemitones ?? 0) * amount,
    rangeFactor: (delta.rangeFactor ?? 1) ** amount,
    volumeDb: (delta.volumeDb ?? 0) * amount,
    whisper: delta.whisper ?? false,
  };
}

const clamp = (v: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, v));

export interface InstructionReading {
  delta: ProsodyDelta;
  /** Understood styles, with intensity when modified, e.g. ['gentle', 'slow ×0.5']. */
  understood: string[];
  /** Phrases containing words the engine does not know, as written by the user. */
  ignored: string[];
  /** Negated styles ("not too fast"): not supported, left out. */
  negated: string[];
  /** Combined changes hit a limit and were capped. */
  capped: boolean;
}

/** Read an instruction: combine the known style words, collect what was not understood. */
export function readInstruction(instruction: string): InstructionReading {
  const { tokens, breaks } = tokenize(instruction);
  const applied: { style: StyleEntry; amount: number; modified: boolean }[] = [];
  const negated: string[] = [];
  const ignored: string[] = [];
  let pendingAmount: number | undefined;
  let pendingNegation: Token | undefined;

  tokens.forEach((token, index) => {
    if (breaks.has(index)) pendingNegation = undefined;
    if (token.kind === 'intensifier') {
      const amount = INTENSIFIERS[token.text.toLowerCase()]!;
      const next = tokens.slice(index + 1).find((t) => t.kind !== 'filler');
      const previous = applied[applied.length - 1];
      if (next?.kind === 'style' || next?.kind === 'intensifier') pendingAmount = (pendingAmount ?? 1) * amount;
      // Chinese puts degree words after the style ("慢一点"): then it modifies the one before.
      else if (previous && !previous.modified) {
        previous.amount *= amount;
        previous.modified = true;
      }
    } else if (token.kind === 'negation') {
      pendingNegation = token;
    } else if (token.kind === 'style') {
      if (pendingNegation) negated.push(instruction.slice(pendingNegation.start, token.end));
      // A repeated style ("sad, very sad") counts once, with its strongest intensity.
      else {
        const amount = pendingAmount ?? 1;
        const same = applied.find((a) => a.style === token.style);
        if (!same) applied.push({ style: token.style!, amount, modified: pendingAmount !== undefined });
        else if (amount > same.amount) same.amount = amount;
      }
      pendingNegation = undefined;
      pendingAmount = undefined;
    }
  });

  // Phrases with unknown words: maximal runs of non-style tokens (not crossing punctuation)
  // that contain an unknown word, trimmed of filler at both ends.
  let run: Token[] = [];
  const flush = (): void => {
    while (run.length > 0 && run[0]!.kind !== 'unknown') run.shift();
    while (run.length > 0 && run[run.length - 1]!.kind !== 'unknown') run.pop();
    if (run.length > 0) ignored.push(instruction.slice(run[0]!.start, run[run.length - 1]!.end));
    run = [];
  };
  tokens.forEach((token, index) => {
    if (breaks.has(index)) flush();
    if (token.kind === 'style' || token.kind === 'negation' || token.kind === 'intensifier') flush();
    else run.push(token);
  });
  flush();

  const total = { ...NEUTRAL_DELTA };
  for (const { style, amount } of applied) {
    const d = scaleDelta(style.delta, amount);
    total.rateFactor *= d.rateFactor!;
    total.pitchSemitones += d.pitchSemitones!;
    total.rangeFactor *= d.rangeFactor!;
    total.volumeDb += d.volumeDb!;
    total.whisper ||= d.whisper!;
  }
  const delta: ProsodyDelta = {
    rateFactor: clamp(total.rateFactor, 0.55, 1.7),
    pitchSemitones: clamp(total.pitchSemitones, -6, 6),
    rangeFactor: clamp(total.rangeFactor, 0.2, 2.5),
    volumeDb: clamp(total.volumeDb, -14, 10),
    whisper: total.whisper,
  };
  const capped =
    delta.rateFactor !== total.rateFactor || delta.pitchSemitones !== total.pitchSemitones || delta.rangeFactor !== total.rangeFactor || delta.volumeDb !== total.volumeDb;
  const understood = applied.map(({ style, amount }) => (amount === 1 ? style.label : `${style.label} ×${amount}`));
  return { delta, understood, ignored, negated, capped };
}

/** Every style word understood, English then Chinese, for EngineInfo.instructVocabulary. */
export const INSTRUCT_VOCABULARY: readonly string[] = [...STYLES.flatMap((s) => s.en), ...STYLES.flatMap((s) => s.zh)];
