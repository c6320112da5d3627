/**
 * How long the speech for a text will be, before the engine says. Remote runtimes do not
 * report a total (the FastAPI runtime streams audio per text segment; Triton answers once,
 * at the end), so progress is measured against this estimate.
 *
 * Constants, per character, for CosyVoice's default speaking pace:
 * - Han 0.25 s: Mandarin read aloud runs at about 4 syllables (= characters) per second,
 *   and CosyVoice's zero-shot voices sit near that.
 * - Kana 0.13 s, Hangul 0.17 s: Japanese runs at about 7–8 morae/s, Korean about 6 syllables/s.
 * - Other letters (Latin, Cyrillic, Greek, …) 0.075 s: English speech is about 150–160 words
 *   per minute, i.e. ~2.6 words/s of ~4.7 letters, ≈ 12–13 letters/s. Spaces cost nothing.
 * - Digits 0.28 s: each digit usually becomes a spoken word or syllable ("二零二五", "twenty").
 * - Sentence punctuation 0.35 s and clause punctuation 0.15 s: the pauses the model inserts.
 * Markup the model does not speak ([laughter], <strong>, <|en|>) counts nothing.
 * The estimate is deliberately plain; callers correct it with what they observe.
 */

const MARKUP = /<\|[^|>]*\|>|<\/?[a-z]+>|\[[a-z_]+\]/gi;
const HAN = /\p{Script=Han}/u;
const KANA = /[\p{Script=Hiragana}\p{Script=Katakana}]/u;
const HANGUL = /\p{Script=Hangul}/u;
const LETTER = /\p{L}/u;
const DIGIT = /\p{Nd}/u;
const SENTENCE_END = /[。！？!?;；…]/u;
const CLAUSE = /[，、,:：]/u;

const SECONDS = { han: 0.25, kana: 0.13, hangul: 0.17, letter: 0.075, digit: 0.28, sentence: 0.35, clause: 0.15 } as const;
const MIN_SECONDS = 0.5;

/** Estimated seconds of speech for `text` at CosyVoice's usual pace. */
export function estimateSpeechSeconds(text: string): number {
  let seconds = 0;
  const chars = Array.from(text.replace(MARKUP, ' '));
  for (const [i, ch] of chars.entries()) {
    const previous = chars[i - 1] ?? '';
    if (HAN.test(ch)) seconds += SECONDS.han;
    else if (KANA.test(ch)) seconds += SECONDS.kana;
    else if (HANGUL.test(ch)) seconds += SECONDS.hangul;
    else if (LETTER.test(ch)) seconds += SECONDS.letter;
    else if (DIGIT.test(ch)) seconds += SECONDS.digit;
    else if (SENTENCE_END.test(ch) || ch === '.') {
      // "..." or "!?" is one pause, not several; a '.' between digits is a decimal point.
      const decimal = ch === '.' && DIGIT.test(previous) && DIGIT.test(chars[i + 1] ?? '');
      if (!decimal && !SENTENCE_END.test(previous) && previous !== '.') seconds += SECONDS.sentence;
    } else if (CLAUSE.test(ch)) seconds += SECONDS.clause;
  }
  return Math.max(MIN_SECONDS, seconds);
}

/**
 * A ratio learned from finished runs (e.g. real audio seconds ÷ estimated seconds, or wall
 * seconds ÷ audio seconds), smoothed so one odd run does not swing it, and clamped.
 */
export class LearnedRatio {
  private current: number;
  private observations = 0;

  constructor(
    initial: number,
    private readonly min: number,
    private readonly max: number,
    /** Weight of a new observation once there is history. */
    private readonly weight = 0.3,
  ) {
    this.current = initial;
  }

  get value(): number {
    return this.current;
  }

  observe(ratio: number): void {
    if (!Number.isFinite(ratio) || ratio <= 0) return;
    const clamped = Math.min(this.max, Math.max(this.min, ratio));
    this.current = this.observations === 0 ? clamped : this.current * (1 - this.weight) + clamped * this.weight;
    this.observations++;
  }
}
