import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { InlineError } from '../../components/InlineError.tsx';
import { useSessionTransitions } from '../../auth/session.ts';
import { passwordProblem } from '../../lib/password.ts';
import { hrefs } from '../../router/hashRouter.ts';
import { useTRPC } from '../../trpc/context.ts';
import { AuthCard } from './AuthCard.tsx';
import { EmailField, NameField, NewPasswordField } from './AuthFields.tsx';
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
  const [email, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const setup = useMutation(trpc.auth.setup.mutationOptions({ onSuccess: (user) => signedIn(user) }));

  const onSubmit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const tooWeak = passwordProblem(password);
    setProblem(tooWeak);
    if (tooWeak) return;
    setup.mutate({ setupToken: token, email, name, password });
  };

  return (
    <AuthCard title="Set up Chorus" testId="setup-page">
      <p className="muted">Create the first admin. Admins invite the rest of the team and can do everything.</p>
      <form className="auth-form" onSubmit={onSubmit} aria-label="Create the first admin">
        <EmailField id="setup-email" value={email} onChange={setEmail} autoFocus />
        <NameField id="setup-name" value={name} onChange={setName} />
        <NewPasswordField id="setup-password" value={password} onChange={setPassword} />
        <InlineError message={problem ?? setup.error?.message} testId="setup-error" />
        <button type="submit" className="button primary" disabled={setup.isPending} data-testid="setup-submit">
          {setup.isPending ? 'Creating…' : 'Create admin and sign in'}
        </button>
      </form>
    </AuthCard>
  );
}
