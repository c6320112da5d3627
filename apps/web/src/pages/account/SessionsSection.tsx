import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
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
        <table className="table" data-testid="sessions">
          <thead>
            <tr>
              <th>Browser</th>
              <th>Address</th>
              <th>Signed in</th>
              <th>Last seen</th>
              <th>Expires</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {sessions.data.map((s) => (
              <tr key={s.id} data-testid="session-row" data-current={s.current}>
                <td className="wrap">
                  {s.userAgent ?? <span className="muted">unknown</span>}
                  {s.current ? <span className="tag">this session</span> : null}
                </td>
                <td>{s.ip ?? '—'}</td>
                <td>{formatDateTime(s.createdAt)}</td>
                <td>{formatDateTime(s.lastSeenAt)}</td>
                <td>{formatDateTime(s.expiresAt)}</td>
                <td className="row-actions">
                  {s.current ? (
                    <span className="muted small">Sign out to end it</span>
                  ) : (
                    <button
                      type="button"
                      className="button small danger"
                      onClick={() => revoke.mutate({ sessionId: s.id })}
                      disabled={revoke.isPending}
                      data-testid="revoke-session"
                    >
                      Revoke
                    </button>
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
      <InlineError message={revoke.error?.message} />
    </section>
  );
}
