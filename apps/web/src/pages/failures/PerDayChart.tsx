const DAY_MS = 24 * 3600_000;
const BAR_WIDTH = 8;
const GAP = 2;
const HEIGHT = 36;

// The server counts days in UTC (whole days since the epoch), so the labels do too.
const dayLabel = new Intl.DateTimeFormat(undefined, { weekday: 'short', day: 'numeric', month: 'short', timeZone: 'UTC' });

/** Failures per day, oldest first and today last, as a small bar chart (plain SVG). */
export function PerDayChart({ perDay, now = Date.now() }: { perDay: readonly number[]; now?: number }) {
  const days = perDay.length;
  const peak = Math.max(1, ...perDay);
  const total = perDay.reduce((sum, n) => sum + n, 0);
  const today = Math.floor(now / DAY_MS);
  const width = days * (BAR_WIDTH + GAP) - GAP;
  return (
    <figure className="per-day-chart" data-testid="per-day-chart" data-total={total}>
      <svg
        width={width}
        height={HEIGHT}
        viewBox={`0 0 ${width} ${HEIGHT}`}
        role="img"
        aria-label={`Failures per day over the last ${days} days: ${total} in all, at most ${peak} in one day.`}
      >
        <line x1={0} y1={HEIGHT - 0.5} x2={width} y2={HEIGHT - 0.5} className="chart-axis" />
        {perDay.map((count, i) => {
          const barHeight = count === 0 ? 0 : Math.max(3, Math.round((count / peak) * (HEIGHT - 2)));
          const date = dayLabel.format((today - (days - 1 - i)) * DAY_MS);
          return (
            <g key={i}>
              <title>{`${date}: ${count} failure${count === 1 ? '' : 's'}`}</title>
              {/* an invisible full-height target, so the tooltip works on empty days too */}
              <rect x={i * (BAR_WIDTH + GAP)} y={0} width={BAR_WIDTH} height={HEIGHT} className="chart-hit" />
              {count > 0 ? <rect x={i * (BAR_WIDTH + GAP)} y={HEIGHT - barHeight} width={BAR_WIDTH} height={barHeight} rx={1.5} className="chart-bar" data-count={count} /> : null}
            </g>
          );
        })}
      </svg>
      <figcaption className="muted small">
        {total} in the last {days} days · today on the right
      </figcaption>
    </figure>
  );
}
