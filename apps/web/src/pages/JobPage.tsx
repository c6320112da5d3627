import { useQuery } from '@tanstack/react-query';
import { ErrorPanel } from '../components/ErrorPanel.tsx';
import { InlineError } from '../components/InlineError.tsx';
import { LogView } from '../components/LogView.tsx';
import { StatusBadge } from '../components/StatusBadge.tsx';
import { toJobView } from '../lib/jobView.ts';
import { useTRPC } from '../trpc/context.ts';
import { JobActions } from './job/JobActions.tsx';
import { JobInputs } from './job/JobInputs.tsx';
import { JobProgress } from './job/JobProgress.tsx';
import { JobResult } from './job/JobResult.tsx';
import { useJobChanges } from './job/useJobChanges.ts';
import { useJobEvents } from './job/useJobEvents.ts';

/** One job, live: status, stage/progress, log, result or error, inputs and actions. */
export function JobPage({ id }: { id: string }) {
  const trpc = useTRPC();
  const summary = useQuery(
    trpc.job.get.queryOptions(
      { id },
      // While queued, the position arrives with job.onChange pushes (useJobChanges); the server
      // pushes the front and the back of a long queue, so a slow refetch covers the middle.
      { refetchInterval: (query) => (query.state.data?.status === 'queued' ? 15_000 : false) },
    ),
  );
  const engines = useQuery(trpc.engine.list.queryOptions(undefined, { staleTime: 60_000 }));
  const { live, streamError } = useJobEvents(id);
  const { deleted } = useJobChanges(id);

  if (summary.isPending) return <p className="muted">Loading job…</p>;
  if (summary.isError) {
    return (
      <div className="page">
        <h1>Job</h1>
        <InlineError message={summary.error.message} testId="job-load-error" />
      </div>
    );
  }

  const job = summary.data;
  const engine = engines.data?.find((e) => e.id === job.engineId);
  const view = toJobView(job, live, engine);

  return (
    <div className="page job-page" data-job-id={job.id}>
      <div className="page-head">
        <div className="title-with-badge">
          <h1>
            Job <code className="job-id">{job.id}</code>
          </h1>
          <StatusBadge status={view.status} testId="job-status" />
        </div>
      </div>
      {live.statusReason && view.status === 'queued' ? <p className="muted" data-testid="status-reason">Waiting: {live.statusReason}.</p> : null}
      <InlineError message={deleted ? 'This job was deleted; what is shown here is what it was, and it is gone from the history.' : null} testId="job-deleted" />
      {deleted ? null : <JobActions job={job} status={view.status} />}
      <InlineError message={streamError ? `Live updates stopped: ${streamError}` : null} />
      <div className="job-grid">
        <div className="job-main">
          <JobProgress view={view} />
          {view.error && view.status === 'failed' ? <ErrorPanel {...view.error} /> : null}
          {view.output ? <JobResult {...view.output} /> : null}
          <LogView entries={live.logs} />
        </div>
        <aside className="job-side">
          <JobInputs job={job} engine={engine} />
        </aside>
      </div>
    </div>
  );
}
