import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ROLES, type Role } from '@chorus/api/schemas';
import { ROLE_DESCRIPTION, ROLE_LABEL } from '../../auth/permissions.ts';
import { CopyButton } from '../../components/CopyButton.tsx';
import { InlineError } from '../../components/InlineError.tsx';
import { formatDateTime } from '../../lib/format.ts';
import { useTRPC } from '../../trpc/context.ts';

const EXPIRY_CHOICES: ReadonlyArray<{ hours: number; label: string }> = [
  { hours: 24, label: '1 day' },
  { hours: 72, label: '3 days' },
  { hours: 168, label: '1 week' },
  { hours: 720, label: '30 days' },
];

/** A single-use link for one new person with a role; the link is shown once (the server keeps a hash). */
export function InviteForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [role, setRole] = useState<Role>('member');
  const [email, setEmail] = useState('');
  const [hours, setHours] = useState(72);
  const create = useMutation(
    trpc.members.createInvite.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.members.invites.queryKey() }),
    }),
  );
  const link = create.data ? `${window.location.origin}${create.data.path}` : null;

  const onSubmit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const trimmed = email.trim();
    create.mutate({ role, expiresInHours: hours, ...(trimmed ? { email: trimmed } : {}) }, { onSuccess: () => setEmail('') });
  };

  return (
    <section className="card" aria-label="Invite someone">
      <h2>Invite someone</h2>
      <form className="inline-form" onSubmit={onSubmit}>
        <div className="field">
          <label htmlFor="invite-role">Role</label>
          <select id="invite-role" value={role} onChange={(e) => setRole(e.target.value as Role)} data-testid="invite-role-select">
            {ROLES.map((r) => (
              <option key={r} value={r}>
                {ROLE_LABEL[r]}
              </option>
            ))}
          </select>
        </div>
        <div className="field grow">
          <label htmlFor="invite-email-limit">Email (optional)</label>
          <input
            id="invite-email-limit"
            type="email"
            value={email}
            onChange={(e) => setEmail(e.target.value)}
            placeholder="only this address may use the link"
            data-testid="invite-email-limit"
          />
        </div>
        <div className="field">
          <label htmlFor="invite-expiry">Valid for</label>
          <select id="invite-expiry" value={hours} onChange={(e) => setHours(Number(e.target.value))} data-testid="invite-expiry">
            {EXPIRY_CHOICES.map((c) => (
              <option key={c.hours} value={c.hours}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
        <button type="submit" className="button primary" disabled={create.isPending} data-testid="create-invite">
          {create.isPending ? 'Creating…' : 'Create invite link'}
        </button>
      </form>
      <p className="help">
        {ROLE_LABEL[role]}: {ROLE_DESCRIPTION[role]}.
      </p>
      <InlineError message={create.error?.message} testId="invite-create-error" />
      {link && create.data ? (
        <div className="secret-once" data-testid="new-invite">
          <p>
            <strong>Send this link to the person you invite.</strong> It is shown only once, works once, and expires {formatDateTime(create.data.expiresAt)}.
          </p>
          <div className="secret-row">
            <input type="text" readOnly value={link} onFocus={(e) => e.target.select()} aria-label="Invite link" data-testid="invite-link" />
            <CopyButton text={link} title="Copy invite link" testId="copy-invite-link" />
          </div>
        </div>
      ) : null}
    </section>
  );
}
