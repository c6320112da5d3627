import { formatAudioDuration, formatSampleRate } from '../../lib/format.ts';

interface Props {
  audioUrl: string;
  durationMs: number | null;
  sampleRate: number | null;
}

/** The finished take: a player and a download link (the server names the file). */
export function JobResult({ audioUrl, durationMs, sampleRate }: Props) {
  const downloadUrl = `${audioUrl}${audioUrl.includes('?') ? '&' : '?'}download=1`;
  return (
    <section className="card job-result" aria-label="Result">
      <h2>Result</h2>
      <audio controls preload="auto" src={audioUrl} data-testid="job-audio" className="player" />
      <div className="result-row">
        <a className="button primary" href={downloadUrl} download data-testid="download-link">
          Download WAV
        </a>
        <span className="muted">
          {formatAudioDuration(durationMs)}
          {sampleRate ? ` · ${formatSampleRate(sampleRate)}` : ''} · 16-bit mono
        </span>
      </div>
    </section>
  );
}
