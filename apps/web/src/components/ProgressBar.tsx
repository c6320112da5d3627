import { formatEta } from '../lib/format.ts';

interface Props {
  step: number;
  total: number;
  percent: number;
  etaMs: number | null;
  label: string;
  /** What is counted, when it is worth saying ("stages"). */
  unit?: string;
  /** Replaces the ETA text (e.g. "canceled") when the job is no longer running. */
  note?: string;
}

/** Native <progress> (accessible, easy to test) plus "step/total · percent · ETA". */
export function ProgressBar({ step, total, percent, etaMs, label, unit, note }: Props) {
  const eta = formatEta(etaMs);
  const pct = Math.max(0, Math.min(100, percent));
  return (
    <div className="progress">
      <progress max={100} value={pct} aria-label={label} data-testid="progress-bar" />
      <div className="progress-text" data-testid="progress-text">
        <span>
          {step}/{total}
          {unit ? ` ${unit}` : ''}
        </span>
        <span>{pct.toFixed(pct >= 100 || Number.isInteger(pct) ? 0 : 1)}%</span>
        <span>{note ?? (eta ? `about ${eta} left` : step >= total ? 'done' : 'estimating…')}</span>
      </div>
    </div>
  );
}
