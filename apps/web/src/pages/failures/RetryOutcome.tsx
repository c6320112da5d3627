import type { RouterOutputs } from '../../trpc/routerTypes.ts';
import { hrefs } from '../../router/hashRouter.ts';

/** "Started 2 retries: job_…, job_…" after a retry, with links to follow them. */
export function RetryOutcome({ outcome }: { outcome: RouterOutputs['failures']['retry'] }) {
  const n = outcome.retried.length;
  return (
    <p className="ok-note" role="status" data-testid="retry-outcome" data-count={n}>
      Started {n} {n === 1 ? 'retry' : 'retries'}:{' '}
      {outcome.retried.map((r, i) => (
        <span key={r.id}>
          {i > 0 ? ', ' : null}
          <a href={hrefs.job(r.id)}>
            <code>{r.id}</code>
          </a>
        </span>
      ))}
    </p>
  );
}
