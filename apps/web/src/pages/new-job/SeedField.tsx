import { SEED_MAX, SEED_MIN } from '@chorus/api/schemas';
import { DiceIcon } from '../../components/DiceIcon.tsx';
import { randomSeed } from '../../lib/seed.ts';

export interface SeedChoice {
  /** true: leave the seed out and let the server draw one. */
  random: boolean;
  raw: string;
}

interface Props {
  value: SeedChoice;
  onChange: (value: SeedChoice) => void;
  error: string | null;
  /** Whether the chosen engine honours seeds (same inputs + seed → same audio). */
  reproducible: boolean;
}

/** A pinned seed (typed or rolled with the dice) or "random" (the server draws and reports it). */
export function SeedField({ value, onChange, error, reproducible }: Props) {
  return (
    <div className="field">
      <label htmlFor="job-seed">Seed</label>
      <div className="seed-row">
        <input
          id="job-seed"
          type="text"
          inputMode="numeric"
          autoComplete="off"
          value={value.random ? '' : value.raw}
          disabled={value.random}
          placeholder={value.random ? 'drawn by the server' : `${SEED_MIN}–${SEED_MAX}`}
          onChange={(e) => onChange({ random: false, raw: e.target.value })}
          aria-invalid={error ? true : undefined}
          aria-describedby="job-seed-help"
          data-testid="seed-input"
        />
        <button
          type="button"
          className="button icon"
          onClick={() => onChange({ random: false, raw: String(randomSeed()) })}
          title="Roll a random seed"
          aria-label="Roll a random seed"
          data-testid="seed-dice"
        >
          <DiceIcon />
        </button>
        <label className="checkbox">
          <input
            type="checkbox"
            checked={value.random}
            onChange={(e) => onChange({ random: e.target.checked, raw: value.raw })}
            data-testid="seed-random"
          />
          Random
        </label>
      </div>
      <p id="job-seed-help" className={error ? 'inline-error' : 'help'}>
        {error ??
          (reproducible
            ? 'The same inputs, seed and engine version give the same audio.'
            : 'Recorded with the job, but this engine cannot apply it: re-runs will sound different.')}
      </p>
    </div>
  );
}
