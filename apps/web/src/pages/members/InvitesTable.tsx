import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import type { InviteInfo } from '@chorus/api/schemas';
import { ROLE_LABEL } from '../../auth/permissions.ts';
import { DataTable } from '../../components/DataTable.tsx';
import { InlineError } from '../../components/InlineError.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { MEMBERS_POLL_MS } from './MembersTable.tsx';
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
  const invites = useQuery(trpc.members.invites.queryOptions(undefined, { refetchInterval: MEMBERS_POLL_MS, refetchOnWindowFocus: true }));
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
        <DataTable
          // The state is read once per row, so its cells agree even at the moment of expiry.
          rows={invites.data.map((invite) => ({ invite, state: inviteState(invite) }))}
          columns={[
            { header: 'Role', cell: ({ invite }) => ROLE_LABEL[invite.role] },
            { header: 'For', cell: ({ invite }) => invite.email ?? <span className="muted">anyone with the link</span> },
            {
              header: 'Created',
              cell: ({ invite }) => (
                <>
                  {formatDateTime(invite.createdAt)} <span className="muted small">by {invite.createdBy}</span>
                </>
              ),
            },
            { header: 'Expires', cell: ({ invite }) => formatDateTime(invite.expiresAt) },
            { header: 'State', cell: ({ state }) => <span className={`tag state-${state}`}>{state}</span> },
            {
              className: 'row-actions',
              cell: ({ invite, state }) =>
                state === 'open' ? (
                  <button type="button" className="button small danger" onClick={() => revoke.mutate({ inviteId: invite.id })} disabled={revoke.isPending} data-testid="revoke-invite">
                    Withdraw
                  </button>
                ) : null,
            },
          ]}
          rowKey={({ invite }) => invite.id}
          testId="invites"
          rowTestId="invite-row"
          rowData={({ state }) => ({ 'data-state': state })}
        />
      )}
      <InlineError message={revoke.error?.message} />
    </section>
  );
}
