import { useMutation, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import type { AuthUser } from '@chorus/api/schemas';
import { InlineError } from '../../components/InlineError.tsx';
import { homeHref, ROLE_DESCRIPTION, ROLE_LABEL } from '../../auth/permissions.ts';
import { useSessionTransitions } from '../../auth/session.ts';
import { formatDateTime } from '../../lib/format.ts';
import { navigate } from '../../router/hashRouter.ts';
import { useTRPC } from '../../trpc/context.ts';
import { AccountForm } from './AccountForm.tsx';
import { AuthCard } from './AuthCard.tsx';

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
      <AccountForm
        idPrefix="invite"
        label="Accept the invite"
        fixedEmail={offer.email}
        pending={accept.isPending}
        serverError={accept.error?.message}
        errorTestId="invite-error"
        submitTestId="invite-submit"
        submitLabel="Create account and sign in"
        pendingLabel="Creating your account…"
        onSubmit={(details) => accept.mutate({ inviteToken: token, ...details })}
      />
    </AuthCard>
  );
}
