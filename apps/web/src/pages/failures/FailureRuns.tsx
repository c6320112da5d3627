import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { JobStatus } from '@chorus/api/schemas';
import { InlineError } from '../../components/InlineError.tsx';
import { StatusBadge } from '../../components/StatusBadge.tsx';
import { excerpt, formatDateTime } from '../../lib/format.ts';
import { hrefs } from '../../router/hashRouter.ts';
import { useTRPC } from '../../trpc/context.ts';
import { RetryOutcome } from './RetryOutcome.tsx';
import { RunNoteEditor } from './RunNoteEditor.tsx';
import { useRetryFailures } from './useRetryFailures.ts';

/** The failed runs of one group, newest first: pick some to retry, note on any. */
export function FailureRuns({ fingerprint }: { fingerprint: string }) {
  const trpc = useTRPC();
  const runs = useQuery(trpc.failures.runs.queryOptions({ fingerprint }));
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const retry = useRetryFailures();

  if (runs.isPending) return <p className="muted">Loading runs…</p>;
  if (runs.isError) return <InlineError message={runs.error.message} />;

  const ids = runs.data.map((r) => r.job.id);
  const chosen = ids.filter((id) => selected.has(id));
  const allChosen = ids.length > 0 && chosen.length === ids.length;
  const toggle = (id: string): void => {
    const next = new Set(selected);
    if (next.has(id)) next.delete(id);
    else next.add(id);
    setSelected(next);
  };
  const retrySelected = (seed: 'same' | 'random'): void => retry.mutate({ jobIds: chosen, seed }, { onSuccess: () => setSelected(new Set()) });

  return (
    <div className="failure-runs" data-testid="failure-runs">
      <div className="runs-toolbar">
        <label className="checkbox">
          <input type="checkbox" checked={allChosen} onChange={() => setSelected(allChosen ? new Set() : new Set(ids))} data-testid="runs-select-all" />
          Select all
        </label>
        <span className="muted small">{chosen.length} selected</span>
        <button type="button" className="button small" disabled={chosen.length === 0 || retry.isPending} onClick={() => retrySelected('same')} data-testid="retry-selected-same">
          Retry selected, same seed
        </button>
        <button type="button" className="button small" disabled={chosen.length === 0 || retry.isPending} onClick={() => retrySelected('random')} data-testid="retry-selected-random">
          Retry selected, new seed
        </button>
      </div>
      <InlineError message={retry.error?.message} />
      {retry.data ? <RetryOutcome outcome={retry.data} pending={retry.isPending} onRetryAgain={(jobIds) => retry.mutate({ jobIds, seed: retry.variables?.seed ?? 'same', again: true })} /> : null}
      <table className="table">
        <thead>
          <tr>
            <th aria-label="Select" />
            <th>Run</th>
            <th>By</th>
            <th>Failed</th>
            <th>Retries</th>
            <th>Note</th>
          </tr>
        </thead>
        <tbody>
          {runs.data.map(({ job, note, retries }) => (
            <tr key={job.id} data-testid="failure-run" data-job-id={job.id}>
              <td>
                <input type="checkbox" checked={selected.has(job.id)} onChange={() => toggle(job.id)} aria-label={`Select ${job.id}`} data-testid="run-select" />
              </td>
              <td className="wrap">
                <a href={hrefs.job(job.id)}>
                  <code>{job.id}</code>
                </a>
                <div className="muted small">
                  “{excerpt(job.text, 60)}” · seed {job.seed}
                  {job.parentRelation === 'retry' ? ' · a retry' : ''}
                </div>
              </td>
              <td>{job.createdBy?.name ?? <span className="muted">unknown</span>}</td>
              <td className="nowrap">{formatDateTime(job.finishedAt ?? job.createdAt)}</td>
              <td>
                {retries.length === 0 ? (
                  <span className="muted">—</span>
                ) : (
                  <ul className="plain-list">
                    {retries.map((r) => (
                      <li key={r.id}>
                        <RetryLink id={r.id} status={r.status} />
                      </li>
                    ))}
                  </ul>
                )}
              </td>
              <td>
                <RunNoteEditor key={note ?? ''} jobId={job.id} saved={note} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** One retry of a run, by its status. */
function RetryLink({ id, status }: { id: string; status: JobStatus }) {
  return (
    <a href={hrefs.job(id)} title={id} data-testid="run-retry" data-status={status}>
      <StatusBadge status={status} />
    </a>
  );
}
