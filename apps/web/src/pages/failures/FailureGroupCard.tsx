import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import type { FailureGroupInfo } from '@chorus/api/schemas';
import { InlineError } from '../../components/InlineError.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { jobErrorText } from '../../lib/labels.ts';
import { useTRPC } from '../../trpc/context.ts';
import { FailureRuns } from './FailureRuns.tsx';
import { PerDayChart } from './PerDayChart.tsx';
import { ResolveForm } from './ResolveForm.tsx';
import { RetryOutcome } from './RetryOutcome.tsx';
import { useRetryFailures } from './useRetryFailures.ts';

const STATE_LABEL: Record<FailureGroupInfo['state'], string> = { open: 'Open', resolved: 'Resolved', ignored: 'Ignored' };

/** One cause of failure: what it is, how often and for whom, how its retries went, and what to do. */
export function FailureGroupCard({ group }: { group: FailureGroupInfo }) {
  const [showRuns, setShowRuns] = useState(false);
  const text = jobErrorText(group.code, group.hint);
  return (
    <article className="card failure-group" data-testid="failure-group" data-fingerprint={group.fingerprint} data-code={group.code} data-state={group.state}>
      <header className="failure-head">
        <div>
          <code className="error-code" data-testid="group-code">
            {group.code}
          </code>{' '}
          <span className="failure-label">{text.label}</span>
        </div>
        <div className="failure-flags">
          {group.reopened ? (
            <span className="tag state-reopened" data-testid="group-reopened">
              reopened: failed again after it was resolved
            </span>
          ) : null}
          <span className={`tag state-${group.state}`} data-testid="group-state">
            {STATE_LABEL[group.state]}
          </span>
        </div>
      </header>
      {/* Known causes often say exactly what the code means; the line would only repeat it. */}
      {group.message && group.message !== text.label ? (
        <p className="failure-message" data-testid="group-message">
          {group.message}
        </p>
      ) : null}
      <p className="help">{text.hint}</p>
      <div className="failure-body">
        <dl className="facts">
          <dt>Runs</dt>
          <dd data-testid="group-count" data-count={group.count}>
            {group.count} failed {group.count === 1 ? 'run' : 'runs'}
          </dd>
          <dt>Where</dt>
          <dd>
            engine <code>{group.engineId}</code>
            {group.stage ? (
              <>
                {' '}
                · stage <code>{group.stage}</code>
              </>
            ) : null}
          </dd>
          <dt>Seen</dt>
          <dd>
            {formatDateTime(group.firstSeen)}
            {group.count > 1 ? ` – ${formatDateTime(group.lastSeen)}` : ''}
          </dd>
          <dt>People</dt>
          <dd data-testid="group-members">
            {group.members.length === 0 ? <span className="muted">nobody known</span> : group.members.map((m) => `${m.name} (${m.count})`).join(', ')}
          </dd>
          <dt>Retries</dt>
          <dd data-testid="group-retries" data-total={group.retries.total} data-succeeded={group.retries.succeeded} data-failed={group.retries.failed} data-pending={group.retries.pending}>
            {group.retries.total === 0
              ? 'none yet'
              : `${group.retries.total}: ${group.retries.succeeded} succeeded · ${group.retries.failed} failed · ${group.retries.pending} pending`}
          </dd>
          {group.note ? (
            <>
              <dt>Note</dt>
              <dd className="prose" data-testid="group-note">
                {group.note}
              </dd>
            </>
          ) : null}
        </dl>
        <PerDayChart perDay={group.perDay} />
      </div>
      <GroupActions group={group} />
      <button type="button" className="link-button" onClick={() => setShowRuns(!showRuns)} aria-expanded={showRuns} data-testid="toggle-runs">
        {showRuns ? 'Hide runs' : `Show runs (${group.count})`}
      </button>
      {showRuns ? <FailureRuns fingerprint={group.fingerprint} /> : null}
    </article>
  );
}

/** Retry the whole group, resolve it with a note, ignore it or open it again. */
function GroupActions({ group }: { group: FailureGroupInfo }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [resolving, setResolving] = useState(false);
  const refresh = (): void => void queryClient.invalidateQueries({ queryKey: trpc.failures.groups.pathKey() });
  const retry = useRetryFailures();
  const resolve = useMutation(
    trpc.failures.resolve.mutationOptions({
      onSuccess: () => {
        setResolving(false);
        refresh();
      },
    }),
  );
  const setState = useMutation(trpc.failures.setState.mutationOptions({ onSuccess: refresh }));
  const fingerprint = group.fingerprint;
  const busy = retry.isPending || resolve.isPending || setState.isPending;
  const all = group.count === 1 ? 'Retry' : `Retry all ${group.count}`;

  return (
    <div className="failure-actions">
      <div className="actions wrap">
        <button type="button" className="button" disabled={busy} onClick={() => retry.mutate({ fingerprint, seed: 'same' })} data-testid="retry-group-same">
          {all}, same seed
        </button>
        <button type="button" className="button" disabled={busy} onClick={() => retry.mutate({ fingerprint, seed: 'random' })} data-testid="retry-group-random">
          {all}, new seed
        </button>
        {group.state !== 'resolved' && !resolving ? (
          <button type="button" className="button" disabled={busy} onClick={() => setResolving(true)} data-testid="resolve-group">
            Resolve…
          </button>
        ) : null}
        {group.state === 'open' ? (
          <button type="button" className="button" disabled={busy} onClick={() => setState.mutate({ fingerprint, state: 'ignored' })} data-testid="ignore-group">
            Ignore
          </button>
        ) : (
          <button type="button" className="button" disabled={busy} onClick={() => setState.mutate({ fingerprint, state: 'open' })} data-testid="reopen-group">
            Reopen
          </button>
        )}
      </div>
      {resolving ? <ResolveForm pending={resolve.isPending} onResolve={(note) => resolve.mutate({ fingerprint, ...(note ? { note } : {}) })} onCancel={() => setResolving(false)} /> : null}
      <InlineError message={retry.error?.message ?? resolve.error?.message ?? setState.error?.message} testId="group-action-error" />
      {retry.data ? <RetryOutcome outcome={retry.data} pending={retry.isPending} onRetryAgain={(jobIds) => retry.mutate({ jobIds, seed: retry.variables?.seed ?? 'same', again: true })} /> : null}
    </div>
  );
}
