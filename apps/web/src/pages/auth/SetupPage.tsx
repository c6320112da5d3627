import { useMutation } from '@tanstack/react-query';
import { useSessionTransitions } from '../../auth/session.ts';
import { hrefs } from '../../router/hashRouter.ts';
import { useTRPC } from '../../trpc/context.ts';
import { AccountForm } from './AccountForm.tsx';
import { AuthCard } from './AuthCard.tsx';
import { SetupNeededPage } from './SetupNeededPage.tsx';

/** The one-time setup link: creates the first admin and signs them in. */
export function SetupPage({ token, ready }: { token: string | null; ready: boolean }) {
  if (ready) {
    return (
      <AuthCard title="Chorus is already set up" testId="setup-done">
        <p>
          An admin exists already. <a href={hrefs.login()}>Sign in</a>, or ask an admin for an invite.
        </p>
      </AuthCard>
    );
  }
  if (!token) return <SetupNeededPage />;
  return <FirstAdminForm token={token} />;
}

function FirstAdminForm({ token }: { token: string }) {
  const trpc = useTRPC();
  const { signedIn } = useSessionTransitions();
  const setup = useMutation(trpc.auth.setup.mutationOptions({ onSuccess: (user) => signedIn(user) }));

  return (
    <AuthCard title="Set up Chorus" testId="setup-page">
      <p className="muted">Create the first admin. Admins invite the rest of the team and can do everything.</p>
      <AccountForm
        idPrefix="setup"
        label="Create the first admin"
        pending={setup.isPending}
        serverError={setup.error?.message}
        errorTestId="setup-error"
        submitTestId="setup-submit"
        submitLabel="Create admin and sign in"
        pendingLabel="Creating…"
        onSubmit={(details) => setup.mutate({ setupToken: token, ...details })}
      />
    </AuthCard>
  );
}
