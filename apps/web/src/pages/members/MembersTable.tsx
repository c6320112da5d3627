import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ROLES, type Member, type Role } from '@chorus/api/schemas';
import { useCurrentUser } from '../../auth/CurrentUser.ts';
import { ROLE_LABEL } from '../../auth/permissions.ts';
import { InlineError } from '../../components/InlineError.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { useTRPC } from '../../trpc/context.ts';

/** How often the Members page re-reads people and invites (cheap admin-only queries). */
export const MEMBERS_POLL_MS = 5_000;

/** Everyone with an account: change a role, deactivate (signs them out at once) or reactivate. */
export function MembersTable() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const me = useCurrentUser();
  // Polled while open: people who accept an invite (in their own browser) appear without a reload.
  const members = useQuery(trpc.members.list.queryOptions(undefined, { refetchInterval: MEMBERS_POLL_MS, refetchOnWindowFocus: true }));
  const onSuccess = (): void => {
    void queryClient.invalidateQueries({ queryKey: trpc.members.list.queryKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.auth.people.queryKey() });
  };
  const setRole = useMutation(trpc.members.setRole.mutationOptions({ onSuccess }));
  const deactivate = useMutation(trpc.members.deactivate.mutationOptions({ onSuccess }));
  const reactivate = useMutation(trpc.members.reactivate.mutationOptions({ onSuccess }));
  const busy = setRole.isPending || deactivate.isPending || reactivate.isPending;
  // Each action clears the others' errors first, so at most one refusal (e.g. "the last active admin") shows.
  const refusal = setRole.error ?? deactivate.error ?? reactivate.error;

  const resetErrors = (): void => {
    setRole.reset();
    deactivate.reset();
    reactivate.reset();
  };

  return (
    <section className="card" aria-label="People">
      <h2>People</h2>
      {members.isPending ? (
        <p className="muted">Loading members…</p>
      ) : members.isError ? (
        <InlineError message={members.error.message} />
      ) : (
        <table className="table" data-testid="members">
          <thead>
            <tr>
              <th>Name</th>
              <th>Email</th>
              <th>Role</th>
              <th>Status</th>
              <th>Joined</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {members.data.map((m) => (
              <MemberRow
                key={m.id}
                member={m}
                isMe={m.id === me.id}
                busy={busy}
                onRole={(role) => {
                  resetErrors();
                  setRole.mutate({ userId: m.id, role });
                }}
                onDeactivate={() => {
                  resetErrors();
                  deactivate.mutate({ userId: m.id });
                }}
                onReactivate={() => {
                  resetErrors();
                  reactivate.mutate({ userId: m.id });
                }}
              />
            ))}
          </tbody>
        </table>
      )}
      <InlineError message={refusal?.message} testId="members-error" />
    </section>
  );
}

interface RowProps {
  member: Member;
  isMe: boolean;
  busy: boolean;
  onRole: (role: Role) => void;
  onDeactivate: () => void;
  onReactivate: () => void;
}

function MemberRow({ member, isMe, busy, onRole, onDeactivate, onReactivate }: RowProps) {
  return (
    <tr data-testid="member-row" data-email={member.email} data-active={member.active} className={member.active ? undefined : 'inactive'}>
      <td>
        {member.name}
        {isMe ? <span className="tag">you</span> : null}
      </td>
      <td>{member.email}</td>
      <td>
        <select
          value={member.role}
          onChange={(e) => onRole(e.target.value as Role)}
          disabled={busy}
          aria-label={`Role of ${member.name}`}
          data-testid="member-role"
        >
          {ROLES.map((r) => (
            <option key={r} value={r}>
              {ROLE_LABEL[r]}
            </option>
          ))}
        </select>
      </td>
      <td>{member.active ? 'active' : `deactivated ${member.deactivatedAt ? formatDateTime(member.deactivatedAt) : ''}`}</td>
      <td>{formatDateTime(member.createdAt)}</td>
      <td className="row-actions">
        {member.active ? (
          <button type="button" className="button small danger" onClick={onDeactivate} disabled={busy} data-testid="deactivate">
            Deactivate
          </button>
        ) : (
          <button type="button" className="button small" onClick={onReactivate} disabled={busy} data-testid="reactivate">
            Reactivate
          </button>
        )}
      </td>
    </tr>
  );
}
