import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DataTable } from '../../components/DataTable.tsx';
import { InlineError } from '../../components/InlineError.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { useTRPC } from '../../trpc/context.ts';

/** Where this account is signed in; any other session can be ended from here. */
export function SessionsSection() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const sessions = useQuery(trpc.auth.sessions.queryOptions());
  const revoke = useMutation(
    trpc.auth.revokeSession.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.auth.sessions.queryKey() }),
    }),
  );

  return (
    <section className="card" aria-label="Sessions">
      <h2>Sessions</h2>
      {sessions.isPending ? (
        <p className="muted">Loading sessions…</p>
      ) : sessions.isError ? (
        <InlineError message={sessions.error.message} />
      ) : (
        <DataTable
          rows={sessions.data}
          columns={[
            {
              header: 'Browser',
              className: 'wrap',
              cell: (s) => (
                <>
                  {s.userAgent ?? <span className="muted">unknown</span>}
                  {s.current ? <span className="tag">this session</span> : null}
                </>
              ),
            },
            { header: 'Address', cell: (s) => s.ip ?? '—' },
            { header: 'Signed in', cell: (s) => formatDateTime(s.createdAt) },
            { header: 'Last seen', cell: (s) => formatDateTime(s.lastSeenAt) },
            { header: 'Expires', cell: (s) => formatDateTime(s.expiresAt) },
            {
              className: 'row-actions',
              cell: (s) =>
                s.current ? (
                  <span className="muted small">Sign out to end it</span>
                ) : (
                  <button type="button" className="button small danger" onClick={() => revoke.mutate({ sessionId: s.id })} disabled={revoke.isPending} data-testid="revoke-session">
                    Revoke
                  </button>
                ),
            },
          ]}
          rowKey={(s) => s.id}
          testId="sessions"
          rowTestId="session-row"
          rowData={(s) => ({ 'data-current': s.current })}
        />
      )}
      <InlineError message={revoke.error?.message} />
    </section>
  );
}
