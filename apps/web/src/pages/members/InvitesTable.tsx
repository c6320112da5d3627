import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { InviteInfo } from '@chorus/api/schemas';
import { ROLE_LABEL } from '../../auth/permissions.ts';
import { InlineError } from '../../components/InlineError.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { useTRPC } from '../../trpc/context.ts';

type InviteState = 'open' | 'used' | 'revoked' | 'expired';

function inviteState(invite: InviteInfo, now = Date.now()): InviteState {
  if (invite.usedAt) return 'used';
  if (invite.revokedAt) return 'revoked';
  if (Date.parse(invite.expiresAt) <= now) return 'expired';
  return 'open';
}

/** Invites sent so far, newest first; an open one can be withdrawn. */
export function InvitesTable() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const invites = useQuery(trpc.members.invites.queryOptions());
  const revoke = useMutation(
    trpc.members.revokeInvite.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.members.invites.queryKey() }),
    }),
  );

  return (
    <section className="card" aria-label="Invites">
      <h2>Invites</h2>
      {invites.isPending ? (
        <p className="muted">Loading invites…</p>
      ) : invites.isError ? (
        <InlineError message={invites.error.message} />
      ) : invites.data.length === 0 ? (
        <p className="muted">No invites yet.</p>
      ) : (
        <table className="table" data-testid="invites">
          <thead>
            <tr>
              <th>Role</th>
              <th>For</th>
              <th>Created</th>
              <th>Expires</th>
              <th>State</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {invites.data.map((invite) => {
              const state = inviteState(invite);
              return (
                <tr key={invite.id} data-testid="invite-row" data-state={state}>
                  <td>{ROLE_LABEL[invite.role]}</td>
                  <td>{invite.email ?? <span className="muted">anyone with the link</span>}</td>
                  <td>
                    {formatDateTime(invite.createdAt)} <span className="muted small">by {invite.createdBy}</span>
                  </td>
                  <td>{formatDateTime(invite.expiresAt)}</td>
                  <td>
                    <span className={`tag state-${state}`}>{state}</span>
                  </td>
                  <td className="row-actions">
                    {state === 'open' ? (
                      <button
                        type="button"
                        className="button small danger"
                        onClick={() => revoke.mutate({ inviteId: invite.id })}
                        disabled={revoke.isPending}
                        data-testid="revoke-invite"
                      >
                        Withdraw
                      </button>
                    ) : null}
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      <InlineError message={revoke.error?.message} />
    </section>
  );
}
