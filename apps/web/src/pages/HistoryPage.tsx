import { useState } from 'react';
import { JOB_STATUSES, type JobStatus } from '@chorus/api/schemas';
import { useCurrentUser } from '../auth/CurrentUser.ts';
import { canCreateJobs } from '../auth/permissions.ts';
import { InlineError } from '../components/InlineError.tsx';
import { STATUS_LABEL } from '../lib/labels.ts';
import { hrefs } from '../router/hashRouter.ts';
import { HistoryRow } from './history/HistoryRow.tsx';
import { PersonFilter, type PersonChoice } from './history/PersonFilter.tsx';
import { useLiveJobList } from './history/useLiveJobList.ts';

/** The team's jobs, newest first, live; filtered by status and by who created them. */
export function HistoryPage() {
  const me = useCurrentUser();
  const [status, setStatus] = useState<JobStatus | undefined>(undefined);
  const [createdBy, setCreatedBy] = useState<PersonChoice>('everyone');
  const { list, liveError } = useLiveJobList({ status, createdBy, viewerId: me.id });
  const jobs = list.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div className="page history-page">
      <div className="page-head">
        <h1>History</h1>
        <div className="filters">
          <PersonFilter value={createdBy} onChange={setCreatedBy} />
          <div className="field inline">
            <label htmlFor="history-status">Status</label>
            <select
              id="history-status"
              value={status ?? ''}
              onChange={(e) => setStatus(e.target.value === '' ? undefined : (e.target.value as JobStatus))}
              data-testid="history-filter"
            >
              <option value="">All</option>
              {JOB_STATUSES.map((s) => (
                <option key={s} value={s}>
                  {STATUS_LABEL[s]}
                </option>
              ))}
            </select>
          </div>
        </div>
      </div>
      <InlineError message={liveError ? `Live updates stopped: ${liveError}` : null} />
      {list.isPending ? (
        <p className="muted">Loading jobs…</p>
      ) : list.isError ? (
        <InlineError message={`Could not load jobs: ${list.error.message}`} />
      ) : jobs.length === 0 ? (
        <p className="empty" data-testid="history-empty">
          {emptyListText(status, createdBy)}
          {canCreateJobs(me) ? (
            <>
              {' '}
              <a href={hrefs.newJob()}>Create one</a>.
            </>
          ) : null}
        </p>
      ) : (
        <ul className="history-list" data-testid="history-list">
          {jobs.map((job) => (
            <HistoryRow key={job.id} job={job} />
          ))}
        </ul>
      )}
      {list.hasNextPage ? (
        <div className="load-more">
          <button type="button" className="button" onClick={() => void list.fetchNextPage()} disabled={list.isFetchingNextPage} data-testid="load-more">
            {list.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </button>
        </div>
      ) : null}
      {list.isFetchNextPageError ? <InlineError message={`Could not load more: ${list.error?.message ?? ''}`} /> : null}
    </div>
  );
}

function emptyListText(status: JobStatus | undefined, createdBy: PersonChoice): string {
  const jobs = status ? `No ${STATUS_LABEL[status].toLowerCase()} jobs` : 'No jobs';
  const whose = createdBy === 'everyone' ? '' : createdBy === 'mine' ? ' of yours' : ' by this person';
  return `${jobs}${whose}${!status && createdBy === 'everyone' ? ' yet' : ''}.`;
}
