interface Props {
  value: number;
  onChange: (speed: number) => void;
  min: number;
  max: number;
}

export function SpeedSlider({ value, onChange, min, max }: Props) {
  return (
    <div className="field">
      <label htmlFor="job-speed">
        Speed <output htmlFor="job-speed">{value.toFixed(2)}×</output>
      </label>
      <div className="slider-row">
        <input
          id="job-speed"
          type="range"
          min={min}
          max={max}
          step={0.05}
          value={value}
          onChange={(e) => onChange(Number(e.target.value))}
          data-testid="speed-input"
        />
        <button type="button" className="button small" onClick={() => onChange(1)} disabled={value === 1}>
          Reset
        </button>
      </div>
    </div>
  );
}
