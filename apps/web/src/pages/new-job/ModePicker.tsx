import type { JobMode } from '@chorus/api/schemas';
import { MODE_INFO } from '../../lib/labels.ts';

interface Props {
  modes: readonly JobMode[];
  value: JobMode;
  onChange: (mode: JobMode) => void;
}

/** One radio card per mode the engine supports, each with a one-line explanation. */
export function ModePicker({ modes, value, onChange }: Props) {
  return (
    <fieldset className="field mode-picker">
      <legend>Mode</legend>
      <div className="mode-options">
        {modes.map((mode) => (
          <label key={mode} className={`mode-option${mode === value ? ' selected' : ''}`}>
            <input
              type="radio"
              name="mode"
              value={mode}
              checked={mode === value}
              onChange={() => onChange(mode)}
              data-testid={`mode-${mode}`}
            />
            <span className="mode-label">{MODE_INFO[mode].label}</span>
            <span className="mode-description">{MODE_INFO[mode].description}</span>
          </label>
        ))}
      </div>
    </fieldset>
  );
}
