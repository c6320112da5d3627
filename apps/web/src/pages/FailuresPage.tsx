import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { FAILURE_STATES, type FailureGroupInfo } from '@chorus/api/schemas';
import { InlineError } from '../components/InlineError.tsx';
import { useTRPC } from '../trpc/context.ts';
import { FailureGroupCard } from './failures/FailureGroupCard.tsx';
import { useFailureFeed } from './failures/useFailureFeed.ts';

type StateFilter = FailureGroupInfo['state'] | 'all';
const STATE_FILTERS: readonly StateFilter[] = [...FAILURE_STATES, 'all'];
const FILTER_LABEL: Record<StateFilter, string> = { open: 'Open', resolved: 'Resolved', ignored: 'Ignored', all: 'All' };
const DAY_CHOICES = [7, 14, 30, 90] as const;

/** The admin's review of failed runs, grouped by cause, live. */
export function FailuresPage() {
  const trpc = useTRPC();
  const [state, setState] = useState<StateFilter>('open');
  const [days, setDays] = useState<number>(14);
  const groups = useQuery(trpc.failures.groups.queryOptions({ state, days }));
  const { liveError } = useFailureFeed();

  return (
    <div className="page failures-page">
      <div className="page-head">
        <h1>Failed runs</h1>
        <div className="filters">
          <div className="segmented" role="group" aria-label="Show groups">
            {STATE_FILTERS.map((s) => (
              <button key={s} type="button" className="button small" aria-pressed={state === s} onClick={() => setState(s)} data-testid={`failure-state-${s}`}>
                {FILTER_LABEL[s]}
              </button>
            ))}
          </div>
          <div className="field inline">
            <label htmlFor="failure-days">Chart</label>
            <select id="failure-days" value={days} onChange={(e) => setDays(Number(e.target.value))} data-testid="failure-days">
              {DAY_CHOICES.map((d) => (
                <option key={d} value={d}>
                  last {d} days
                </option>
              ))}
            </select>
          </div>
        </div>
      </div>
      <p className="muted">Failed jobs grouped by cause (error code, engine, stage and message). Retries are new jobs, owned by you, linked to the run they retry.</p>
      <InlineError message={liveError ? `Live updates stopped: ${liveError}` : null} />
      {groups.isPending ? (
        <p className="muted">Loading failed runs…</p>
      ) : groups.isError ? (
        <InlineError message={groups.error.message} />
      ) : groups.data.length === 0 ? (
        <p className="empty" data-testid="failures-empty">
          {state === 'all' ? 'No failed runs.' : `No ${FILTER_LABEL[state].toLowerCase()} failure groups.`}
        </p>
      ) : (
        <div className="failure-groups" data-testid="failure-groups">
          {groups.data.map((group) => (
            <FailureGroupCard key={group.fingerprint} group={group} />
          ))}
        </div>
      )}
    </div>
  );
}
