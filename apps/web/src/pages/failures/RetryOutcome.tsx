import type { RetrySkipReason } from '@chorus/api/schemas';
import type { RouterOutputs } from '../../trpc/routerTypes.ts';
import { hrefs } from '../../router/hashRouter.ts';

type Outcome = RouterOutputs['failures']['retry'];

const SKIP_LABEL: Record<RetrySkipReason, (n: number) => string> = {
  retry_pending: (n) => `${n} ${n === 1 ? 'run has' : 'runs have'} a retry still queued or running`,
  already_retried: (n) => `${n} ${n === 1 ? 'run was' : 'runs were'} retried before`,
  not_failed: (n) => `${n} ${n === 1 ? 'run is' : 'runs are'} no longer a failed run`,
  refused: (n) => `${n} could not be submitted again`,
};
const SKIP_ORDER: readonly RetrySkipReason[] = ['retry_pending', 'already_retried', 'not_failed', 'refused'];

/**
 * "Started 2 retries: job_…, job_…" after a retry, with links to follow them, and what was
 * skipped and why; runs retried before can be retried once more on purpose.
 */
export function RetryOutcome({ outcome, pending = false, onRetryAgain }: { outcome: Outcome; pending?: boolean; onRetryAgain?: (jobIds: string[]) => void }) {
  const n = outcome.retried.length;
  const byReason = (reason: RetrySkipReason) => outcome.skipped.filter((s) => s.reason === reason);
  const again = byReason('already_retried').map((s) => s.jobId);
  const refused = byReason('refused');
  return (
    <div className="retry-outcome">
      <p className="ok-note" role="status" data-testid="retry-outcome" data-count={n} data-skipped={outcome.skippedCount}>
        {n === 0 ? 'Started no retries.' : `Started ${n} ${n === 1 ? 'retry' : 'retries'}: `}
        {outcome.retried.map((r, i) => (
          <span key={r.id}>
            {i > 0 ? ', ' : null}
            <a href={hrefs.job(r.id)}>
              <code>{r.id}</code>
            </a>
          </span>
        ))}
        {outcome.remaining > 0 ? ` ${outcome.remaining} more can be retried with another click.` : null}
      </p>
      {outcome.skippedCount > 0 ? (
        <p className="muted small" data-testid="retry-skipped" data-count={outcome.skippedCount}>
          Skipped:{' '}
          {SKIP_ORDER.filter((r) => byReason(r).length > 0)
            .map((r) => SKIP_LABEL[r](byReason(r).length))
            .join('; ')}
          {outcome.skippedCount > outcome.skipped.length ? ` (${outcome.skippedCount} in all)` : ''}.
          {refused.length > 0 ? ` ${refused[0]!.message ?? ''}` : null}
          {again.length > 0 && onRetryAgain ? (
            <>
              {' '}
              <button type="button" className="link-button" disabled={pending} onClick={() => onRetryAgain(again)} data-testid="retry-again">
                Retry {again.length === 1 ? 'it' : `those ${again.length}`} again
              </button>
            </>
          ) : null}
        </p>
      ) : null}
    </div>
  );
}
