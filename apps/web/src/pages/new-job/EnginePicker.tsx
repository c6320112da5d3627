import type { EngineInfo } from '@chorus/api/schemas';

interface Props {
  engines: readonly EngineInfo[];
  value: string;
  onChange: (id: string) => void;
}

/** Only shown when the deployment offers more than one engine. */
export function EnginePicker({ engines, value, onChange }: Props) {
  const selected = engines.find((e) => e.id === value);
  return (
    <div className="field">
      <label htmlFor="job-engine">Engine</label>
      <select id="job-engine" value={value} onChange={(e) => onChange(e.target.value)} data-testid="engine-select">
        {engines.map((e) => (
          <option key={e.id} value={e.id}>
            {e.name} {e.version}
            {e.default ? ' (default)' : ''}
          </option>
        ))}
      </select>
      {selected ? <p className="help">{selected.description}</p> : null}
    </div>
  );
}
