import type { JobSummary } from '@chorus/api/schemas';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { excerpt, formatAudioDuration, formatDateTime, formatElapsed } from '../../lib/format.ts';
import { MODE_INFO, PARENT_RELATION_LABEL } from '../../lib/labels.ts';
import { hrefs } from '../../router/hashRouter.ts';

/** One job in the history list; the whole row links to the job page. */
export function HistoryRow({ job }: { job: JobSummary }) {
  const took = formatElapsed(job.startedAt, job.finishedAt);
  const progress = job.status === 'running' && job.progressPct !== null ? `${Math.round(job.progressPct)}%` : null;
  return (
    <li className="history-row" data-testid="history-row" data-job-id={job.id} data-status={job.status}>
      <a href={hrefs.job(job.id)}>
        <span className="history-status">
          <StatusBadge status={job.status} />
          {progress ? <span className="muted small">{progress}</span> : null}
        </span>
        <span className="history-text">
          <span className="history-excerpt">{excerpt(job.text, 90)}</span>
          <span className="muted small">
            <span className="history-person" data-testid="history-person-name">
              {job.createdBy?.name ?? 'someone (before accounts)'}
            </span>
            {' · '}
            {MODE_INFO[job.mode].label} · seed {job.seed}
            {job.parentRelation ? ` · ${PARENT_RELATION_LABEL[job.parentRelation]}` : ''}
          </span>
        </span>
        <span className="history-meta">
          <time dateTime={job.createdAt}>{formatDateTime(job.createdAt)}</time>
          <span className="muted small">
            {job.outputDurationMs !== null ? `${formatAudioDuration(job.outputDurationMs)} audio` : '—'}
            {took ? ` · took ${took}` : ''}
          </span>
        </span>
      </a>
    </li>
  );
}
