/** Text handling before synthesis: normalise, pick the language, cut into segments. */

export type TextLanguage = 'zh' | 'en';

/** What follows a segment, which decides the pause inserted after it. */
export type SegmentBoundary = 'paragraph' | 'sentence' | 'clause' | 'none';

export interface TextSegment {
  text: string;
  boundary: SegmentBoundary;
  /** Estimated spoken syllables (drives progress ETA and rate matching). */
  syllables: number;
}

export interface FrontendResult {
  language: TextLanguage;
  normalized: string;
  segments: TextSegment[];
  syllables: number;
}

/** Longest segment in characters per language: ~8–10 s of speech, so progress moves steadily. */
export const MAX_SEGMENT_CHARS: Record<TextLanguage, number> = { zh: 40, en: 160 };

const HAN = /\p{Script=Han}/u;
const SENTENCE_END = new Set(['。', '！', '？', '；', '.', '!', '?', ';', '…']);
const CLAUSE_END = new Set(['，', ',', '、', '：', ':', '—']);
/** Closing quotes/brackets stay with the sentence they close. */
const CLOSERS = new Set(['"', "'", '”', '’', ')', '）', '】', '」', '』', '》', ']']);

/**
 * NFKC (full-width letters and digits become ASCII; CJK punctuation such as ，becomes its
 * ASCII twin, which eSpeak reads the same), control characters removed, runs of spaces
 * collapsed. Blank lines are kept as paragraph breaks ('\n'), single newlines become spaces.
 */
export function normalizeText(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/[\t\v\f\r]/g, ' ')
    .replace(/\p{Cf}|[^\P{Cc}\n]/gu, '')
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.replace(/\s+/g, ' ').trim())
    .filter((paragraph) => paragraph !== '')
    .join('\n');
}

/** Any Han character makes the text Chinese: eSpeak's `cmn` voice also reads Latin words in English, while `en-us` cannot read Han. */
export function detectLanguage(text: string): TextLanguage {
  return HAN.test(text) ? 'zh' : 'en';
}

/** Rough syllable count: one per Han character, vowel groups per Latin word, about one per digit. */
export function countSyllables(text: string): number {
  let count = 0;
  for (const ch of text) if (HAN.test(ch)) count++;
  for (const word of text.match(/[a-zA-Z\u00C0-\u024F']+/g) ?? []) {
    const w = word.toLowerCase().replace(/'/g, '');
    let groups = (w.match(/[aeiouyà-ÿ]+/g) ?? []).length;
    if (groups > 1 && /[^aeiouy]e$/.test(w) && !/[^aeiouy]le$/.test(w)) groups--;
    count += Math.max(1, groups);
  }
  count += (text.match(/\d/g) ?? []).length;
  return count;
}

/** Split at sentence punctuation (closers included); paragraph breaks are sentence ends too. */
function splitSentences(text: string): { text: string; boundary: SegmentBoundary }[] {
  const out: { text: string; boundary: SegmentBoundary }[] = [];
  const chars = [...text];
  let current = '';
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]!;
    if (ch === '\n') {
      if (current.trim()) out.push({ text: current.trim(), boundary: 'paragraph' });
      else if (out.length > 0) out[out.length - 1]!.boundary = 'paragraph';
      current = '';
      continue;
    }
    current += ch;
    if (!SENTENCE_END.has(ch)) continue;
    // ASCII '.' only ends a sentence before a space or the end ("3.14", "e.g" stay intact).
    if (ch === '.' && i + 1 < chars.length && !/[\s"'”’)\]）]/.test(chars[i + 1]!)) continue;
    while (i + 1 < chars.length && (SENTENCE_END.has(chars[i + 1]!) || CLOSERS.has(chars[i + 1]!))) current += chars[++i]!;
    out.push({ text: current.trim(), boundary: 'sentence' });
    current = '';
  }
  if (current.trim()) out.push({ text: current.trim(), boundary: 'sentence' });
  return out.filter((s) => s.text !== '');
}

/** Split text into clauses at commas and similar marks (the mark stays with its clause). */
function splitClauses(sentence: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const ch of sentence) {
    current += ch;
    if (CLAUSE_END.has(ch)) {
      out.push(current);
      current = '';
    }
  }
  if (current) out.push(current);
  return out;
}

/** Last resort for a clause longer than the limit: cut at spaces, or every `max` characters. */
function hardSplit(clause: string, max: number): string[] {
  const out: string[] = [];
  let rest = [...clause];
  while (rest.length > max) {
    let cut = rest.lastIndexOf(' ', max);
    if (cut <= 0) cut = max;
    out.push(rest.slice(0, cut).join(''));
    rest = rest.slice(cut);
  }
  out.push(rest.join(''));
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

/** Does this piece contain anything eSpeak would speak (letters or digits)? */
export const isSpeakable = (text: string): boolean => /[\p{L}\p{N}]/u.test(text);

/**
 * Sentences become segments; a sentence longer than the language's limit is packed
 * clause by clause into segments under the limit. Segments without speakable characters
 * are dropped, their pause merged into the previous segment.
 */
export function segmentText(text: string, language: TextLanguage, maxChars = MAX_SEGMENT_CHARS[language]): TextSegment[] {
  const segments: TextSegment[] = [];
  const push = (piece: string, boundary: SegmentBoundary): void => {
    const trimmed = piece.trim();
    if (!isSpeakable(trimmed)) {
      const last = segments[segments.length - 1];
      if (last && rank(boundary) > rank(last.boundary)) last.boundary = boundary;
      return;
    }
    segments.push({ text: trimmed, boundary, syllables: Math.max(1, countSyllables(trimmed)) });
  };
  for (const sentence of splitSentences(text)) {
    if ([...sentence.text].length <= maxChars) {
      push(sentence.text, sentence.boundary);
      continue;
    }
    const pieces: string[] = [];
    let current = '';
    for (const clause of splitClauses(sentence.text)) {
      if (current && [...current].length + [...clause].length > maxChars) {
        pieces.push(current);
        current = '';
      }
      if ([...clause].length > maxChars) {
        const parts = hardSplit(clause, maxChars);
        pieces.push(...parts.slice(0, -1));
        current = parts[parts.length - 1] ?? '';
      } else current += clause;
    }
    if (current) pieces.push(current);
    pieces.forEach((piece, index) => {
      const last = index === pieces.length - 1;
      const endsClause = CLAUSE_END.has([...piece.trim()].pop() ?? '');
      push(piece, last ? sentence.boundary : endsClause ? 'clause' : 'none');
    });
  }
  return segments;
}

function rank(boundary: SegmentBoundary): number {
  return { none: 0, clause: 1, sentence: 2, paragraph: 3 }[boundary];
}

export function runTextFrontend(text: string): FrontendResult {
  const normalized = normalizeText(text);
  const language = detectLanguage(normalized);
  const segments = segmentText(normalized, language);
  return { language, normalized, segments, syllables: segments.reduce((n, s) => n + s.syllables, 0) };
}
