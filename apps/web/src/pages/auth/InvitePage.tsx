import { useMutation, useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { AuthUser } from '@chorus/api/schemas';
import { InlineError } from '../../components/InlineError.tsx';
import { homeHref, ROLE_DESCRIPTION, ROLE_LABEL } from '../../auth/permissions.ts';
import { useSessionTransitions } from '../../auth/session.ts';
import { formatDateTime } from '../../lib/format.ts';
import { passwordProblem } from '../../lib/password.ts';
import { navigate } from '../../router/hashRouter.ts';
import { useTRPC } from '../../trpc/context.ts';
import { AuthCard } from './AuthCard.tsx';
import { EmailField, NameField, NewPasswordField } from './AuthFields.tsx';

/** An invite link: says what it offers, then creates the account and signs it in. */
export function InvitePage({ token, signedInAs }: { token: string | null; signedInAs: AuthUser | null }) {
  if (!token) {
    return (
      <AuthCard title="Join Chorus" testId="invite-page">
        <InlineError message="This invite link is incomplete: it has no token. Copy the whole link from the admin’s message." testId="invite-error" />
      </AuthCard>
    );
  }
  return <InviteAcceptance token={token} signedInAs={signedInAs} />;
}

function InviteAcceptance({ token, signedInAs }: { token: string; signedInAs: AuthUser | null }) {
  const trpc = useTRPC();
  const { signedIn } = useSessionTransitions();
  const [accepted, setAccepted] = useState(false);
  // Not refetched once used: it would only say "already used".
  const invite = useQuery(trpc.auth.invite.queryOptions({ inviteToken: token }, { enabled: !accepted, staleTime: Infinity }));
  const [emailInput, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const accept = useMutation(
    trpc.auth.acceptInvite.mutationOptions({
      onSuccess: async (user) => {
        setAccepted(true);
        await signedIn(user);
        navigate(homeHref(user));
      },
    }),
  );

  if (invite.isPending) {
    return (
      <AuthCard title="Join Chorus" testId="invite-page">
        <p className="muted">Checking the invite…</p>
      </AuthCard>
    );
  }
  if (invite.isError) {
    return (
      <AuthCard title="Join Chorus" testId="invite-page">
        <InlineError message={invite.error.message} testId="invite-error" />
      </AuthCard>
    );
  }

  const offer = invite.data;
  const email = offer.email ?? emailInput;
  const onSubmit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const tooWeak = passwordProblem(password);
    setProblem(tooWeak);
    if (tooWeak) return;
    accept.mutate({ inviteToken: token, email, name, password });
  };

  return (
    <AuthCard title="Join Chorus" testId="invite-page">
      <p data-testid="invite-offer">
        You are invited as a <strong data-testid="invite-role">{ROLE_LABEL[offer.role].toLowerCase()}</strong> ({ROLE_DESCRIPTION[offer.role]}).
      </p>
      <p className="muted small">This link works once and expires {formatDateTime(offer.expiresAt)}.</p>
      {signedInAs ? (
        <p className="help warn">
          You are signed in as {signedInAs.name}. Accepting creates a new account and signs you in as it.
        </p>
      ) : null}
      <form className="auth-form" onSubmit={onSubmit} aria-label="Accept the invite">
        <EmailField id="invite-email" value={email} onChange={setEmail} readOnly={offer.email !== null} autoFocus={offer.email === null} />
        <NameField id="invite-name" value={name} onChange={setName} />
        <NewPasswordField id="invite-password" value={password} onChange={setPassword} />
        <InlineError message={problem ?? accept.error?.message} testId="invite-error" />
        <button type="submit" className="button primary" disabled={accept.isPending} data-testid="invite-submit">
          {accept.isPending ? 'Creating your account…' : 'Create account and sign in'}
        </button>
      </form>
    </AuthCard>
  );
}
