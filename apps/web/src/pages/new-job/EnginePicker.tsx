import type { EngineStatus } from '@chorus/api/schemas';

interface Props {
  engines: readonly EngineStatus[];
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
            {e.health.status === 'down' ? ' — unreachable' : ''}
          </option>
        ))}
      </select>
      {selected ? <p className="help">{selected.description}</p> : null}
      {selected?.health.status === 'down' ? (
        <p className="help warn" data-testid="engine-down">
          {selected.name} is unreachable: {selected.health.message?.replace(/\.$/, '')}. Jobs for it wait in the queue until it is back.
        </p>
      ) : null}
      {selected && !selected.reproducible ? (
        <p className="help warn" data-testid="engine-not-reproducible">
          This engine takes no seed: its runs cannot be reproduced bit for bit.
        </p>
      ) : null}
    </div>
  );
}
