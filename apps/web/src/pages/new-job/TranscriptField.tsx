interface Props {
  value: string;
  onChange: (text: string) => void;
}

/** Zero-shot: what is said in the reference clip. */
export function TranscriptField({ value, onChange }: Props) {
  return (
    <div className="field">
      <label htmlFor="job-prompt-text">Reference transcript</label>
      <textarea
        id="job-prompt-text"
        rows={2}
        maxLength={2000}
        value={value}
        onChange={(e) => onChange(e.target.value)}
        required
        aria-describedby="job-prompt-text-help"
        placeholder="Exactly what is said in the reference clip"
        data-testid="transcript-input"
      />
      <p id="job-prompt-text-help" className="help">
        Zero-shot cloning aligns the reference audio with this transcript; keep it word for word.
      </p>
    </div>
  );
}
