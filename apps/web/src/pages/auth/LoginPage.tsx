import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { InlineError } from '../../components/InlineError.tsx';
import { useSessionTransitions } from '../../auth/session.ts';
import { safeReturnPath } from '../../router/hashRouter.ts';
import { useTRPC } from '../../trpc/context.ts';
import { AuthCard } from './AuthCard.tsx';
import { CurrentPasswordField, EmailField } from './AuthFields.tsx';

/** Email + password; on success the gate sends the person back to where they were going. */
export function LoginPage({ next }: { next: string | null }) {
  const trpc = useTRPC();
  const { signedIn } = useSessionTransitions();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const login = useMutation(trpc.auth.login.mutationOptions({ onSuccess: (user) => signedIn(user) }));
  const returning = safeReturnPath(next) !== null;

  const onSubmit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    login.mutate({ email, password });
  };

  return (
    <AuthCard title="Sign in to Chorus" testId="login-page">
      {returning ? <p className="muted">Sign in to continue where you were going.</p> : null}
      <form className="auth-form" onSubmit={onSubmit} aria-label="Sign in">
        <EmailField id="login-email" value={email} onChange={setEmail} autoFocus />
        <CurrentPasswordField id="login-password" label="Password" value={password} onChange={setPassword} testId="password-input" />
        <InlineError message={login.error?.message} testId="login-error" />
        <button type="submit" className="button primary" disabled={login.isPending} data-testid="login-submit">
          {login.isPending ? 'Signing in…' : 'Sign in'}
        </button>
      </form>
      <p className="help">No account? Ask an admin of your team for an invite link.</p>
    </AuthCard>
  );
}
