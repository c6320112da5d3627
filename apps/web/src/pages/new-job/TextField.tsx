import { countChars } from '../../lib/format.ts';

interface Props {
  value: string;
  onChange: (text: string) => void;
  maxChars: number;
}

/** The words to speak, with a live count against the engine's limit. */
export function TextField({ value, onChange, maxChars }: Props) {
  const count = countChars(value);
  const over = count > maxChars;
  return (
    <div className="field">
      <label htmlFor="job-text">Text to speak</label>
      <textarea
        id="job-text"
        rows={5}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        required
        aria-describedby="job-text-count"
        aria-invalid={over || undefined}
        placeholder="Type what the cloned voice should say…"
        data-testid="text-input"
      />
      <div id="job-text-count" className={`counter${over ? ' over' : ''}`} data-testid="text-counter">
        {count} / {maxChars} characters{over ? ` — ${count - maxChars} too many` : ''}
      </div>
    </div>
  );
}
