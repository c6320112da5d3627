import type { EngineSpeaker } from '@chorus/api/schemas';

interface Props {
  speakers: readonly EngineSpeaker[];
  value: string;
  onChange: (id: string) => void;
}

/** Pretrained mode: one of the engine's built-in voices. */
export function SpeakerSelect({ speakers, value, onChange }: Props) {
  const selected = speakers.find((s) => s.id === value);
  return (
    <div className="field">
      <label htmlFor="job-speaker">Speaker</label>
      <select id="job-speaker" value={value} onChange={(e) => onChange(e.target.value)} required data-testid="speaker-select">
        <option value="" disabled>
          {speakers.length === 0 ? 'This engine has no pretrained speakers' : 'Choose a speaker…'}
        </option>
        {speakers.map((s) => (
          <option key={s.id} value={s.id}>
            {s.name} ({s.language})
          </option>
        ))}
      </select>
      {selected?.description ? <p className="help">{selected.description}</p> : null}
    </div>
  );
}
