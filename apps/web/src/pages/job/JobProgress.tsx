import { ProgressBar } from '../../components/ProgressBar.tsx';
import type { JobView } from '../../lib/jobView.ts';

/** Queue position while queued; the current stage and its progress while running. */
export function JobProgress({ view }: { view: JobView }) {
  if (view.status === 'queued') {
    return (
      <section className="card job-progress" aria-label="Progress">
        <p data-testid="queue-position">
          {view.queuePosition === null
            ? 'Waiting in the queue…'
            : view.queuePosition === 1
              ? 'Next in the queue.'
              : `Position ${view.queuePosition} in the queue.`}
        </p>
      </section>
    );
  }
  if (view.status !== 'running' && view.stage === null) return null;

  const stage = view.stage;
  const done = view.status === 'succeeded';
  // A finished job's bar is full and counts stages: its last stage may report no steps.
  const stageCount = stage?.count ?? 1;
  const progress = done ? { step: stageCount, total: stageCount, percent: 100, etaMs: null } : view.progress;
  return (
    <section className="card job-progress" aria-label="Progress">
      <div className="stage-line">
        <span className="stage-name" data-testid="stage-name" data-stage={stage?.name ?? ''}>
          {done ? 'Finished' : stage ? stage.label : 'Starting…'}
        </span>
        {stage ? (
          <span className="muted" data-testid="stage-counter">
            {done ? `all ${stage.count} stages` : `stage ${stage.index + 1} of ${stage.count}`}
          </span>
        ) : null}
      </div>
      {progress ? (
        <ProgressBar
          step={progress.step}
          total={progress.total}
          percent={progress.percent}
          etaMs={view.status === 'running' ? progress.etaMs : null}
          label={stage ? `${stage.label} progress` : 'Progress'}
          unit={done ? 'stages' : undefined}
          note={view.status === 'failed' || view.status === 'canceled' ? `stopped (${view.status})` : undefined}
        />
      ) : view.status === 'running' ? (
        <ProgressBar step={0} total={1} percent={0} etaMs={null} label="Progress" />
      ) : null}
    </section>
  );
}
