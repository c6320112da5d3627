import { useState } from 'react';

/** Style words shown before "more": enough to suggest the idea without a wall of chips. */
const COLLAPSED_COUNT = 16;

interface Props {
  value: string;
  onChange: (text: string) => void;
  vocabulary: readonly string[];
}

/** Instruct mode: a style instruction, with the engine's known style words as one-click hints. */
export function InstructField({ value, onChange, vocabulary }: Props) {
  const [expanded, setExpanded] = useState(false);
  const shown = expanded ? vocabulary : vocabulary.slice(0, COLLAPSED_COUNT);
  const hidden = vocabulary.length - shown.length;
  const addWord = (word: string): void => {
    const trimmed = value.trim();
    onChange(trimmed === '' ? word : `${trimmed}, ${word}`);
  };
  return (
    <div className="field">
      <label htmlFor="job-instruct">Style instruction</label>
      <input
        id="job-instruct"
        type="text"
        maxLength={500}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        required
        placeholder="e.g. say it gently, slowly"
        data-testid="instruct-input"
      />
      {vocabulary.length > 0 ? (
        <div className="chips" aria-label="Style words this engine understands">
          {shown.map((word) => (
            <button key={word} type="button" className="chip" onClick={() => addWord(word)}>
              {word}
            </button>
          ))}
          {hidden > 0 || expanded ? (
            <button type="button" className="chip chip-more" onClick={() => setExpanded(!expanded)} aria-expanded={expanded}>
              {expanded ? 'fewer' : `+${hidden} more`}
            </button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
