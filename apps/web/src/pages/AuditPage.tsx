import { useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { AUDIT_ACTIONS, type AuditAction, type AuditEntryInfo } from '@chorus/api/schemas';
import { InlineError } from '../components/InlineError.tsx';
import { formatDateTime } from '../lib/format.ts';
import { useTRPC } from '../trpc/context.ts';

const PAGE_SIZE = 50;

/** The detail object on one line: `key: value` pairs, nested values as JSON. */
function describeDetail(detail: AuditEntryInfo['detail']): string {
  return Object.entries(detail)
    .map(([key, value]) => `${key}: ${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' · ');
}

/** Who did what and when, newest first; filter by action or person; older entries on demand. */
export function AuditPage() {
  const trpc = useTRPC();
  const [action, setAction] = useState<AuditAction | ''>('');
  const [actorId, setActorId] = useState('');
  const members = useQuery(trpc.members.list.queryOptions(undefined, { staleTime: 60_000 }));
  const input = { limit: PAGE_SIZE, ...(action ? { action } : {}), ...(actorId ? { actorId } : {}) };
  const entries = useInfiniteQuery(trpc.audit.list.infiniteQueryOptions(input, { getNextPageParam: (page) => page.nextCursor }));
  const rows = entries.data?.pages.flatMap((page) => page.items) ?? [];

  return (
    <div className="page audit-page">
      <div className="page-head">
        <h1>Audit log</h1>
        <div className="filters">
          <div className="field inline">
            <label htmlFor="audit-action">Action</label>
            <select id="audit-action" value={action} onChange={(e) => setAction(e.target.value as AuditAction | '')} data-testid="audit-action">
              <option value="">All actions</option>
              {AUDIT_ACTIONS.map((a) => (
                <option key={a} value={a}>
                  {a}
                </option>
              ))}
            </select>
          </div>
          <div className="field inline">
            <label htmlFor="audit-actor">By</label>
            <select id="audit-actor" value={actorId} onChange={(e) => setActorId(e.target.value)} data-testid="audit-actor">
              <option value="">Anyone</option>
              {(members.data ?? []).map((m) => (
                <option key={m.id} value={m.id}>
                  {m.name} ({m.email})
                </option>
              ))}
            </select>
          </div>
        </div>
      </div>
      {entries.isPending ? (
        <p className="muted">Loading the audit log…</p>
      ) : entries.isError ? (
        <InlineError message={entries.error.message} />
      ) : rows.length === 0 ? (
        <p className="empty">No entries{action || actorId ? ' match these filters' : ' yet'}.</p>
      ) : (
        <div className="card flush">
          <table className="table" data-testid="audit-entries">
            <thead>
              <tr>
                <th>When</th>
                <th>Who</th>
                <th>Action</th>
                <th>On</th>
                <th>Details</th>
                <th>Address</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((entry) => (
                <tr key={entry.id} data-testid="audit-row" data-action={entry.action}>
                  <td className="nowrap">{formatDateTime(entry.at)}</td>
                  <td>{entry.actorEmail ?? <span className="muted">system</span>}</td>
                  <td>
                    <code>{entry.action}</code>
                  </td>
                  <td className="wrap">{entry.targetType ? `${entry.targetType} ${entry.targetId ?? ''}` : '—'}</td>
                  <td className="wrap small">{describeDetail(entry.detail) || '—'}</td>
                  <td>{entry.ip ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {entries.hasNextPage ? (
        <div className="load-more">
          <button type="button" className="button" onClick={() => void entries.fetchNextPage()} disabled={entries.isFetchingNextPage} data-testid="audit-load-more">
            {entries.isFetchingNextPage ? 'Loading…' : 'Load more'}
          </button>
        </div>
      ) : null}
      {entries.isFetchNextPageError ? <InlineError message={`Could not load more: ${entries.error?.message ?? ''}`} /> : null}
    </div>
  );
}
