import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { InlineError } from '../../components/InlineError.tsx';
import { passwordProblem } from '../../lib/password.ts';
import { useTRPC } from '../../trpc/context.ts';
import { CurrentPasswordField, NewPasswordField } from '../auth/AuthFields.tsx';

/** The current password, then the new one; other sessions are signed out by the server. */
export function ChangePasswordForm() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [current, setCurrent] = useState('');
  const [next, setNext] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const change = useMutation(
    trpc.auth.changePassword.mutationOptions({
      onSuccess: () => {
        setCurrent('');
        setNext('');
        void queryClient.invalidateQueries({ queryKey: trpc.auth.sessions.queryKey() });
      },
    }),
  );

  const onSubmit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const tooWeak = passwordProblem(next);
    setProblem(tooWeak);
    if (tooWeak) return;
    change.reset();
    change.mutate({ currentPassword: current, newPassword: next });
  };

  return (
    <section className="card" aria-label="Change password">
      <h2>Change password</h2>
      <form className="stack-form" onSubmit={onSubmit}>
        <CurrentPasswordField id="current-password" label="Current password" value={current} onChange={setCurrent} testId="current-password" />
        <NewPasswordField id="new-password" label="New password" value={next} onChange={setNext} testId="new-password" />
        <InlineError message={problem ?? change.error?.message} testId="password-error" />
        {change.isSuccess ? (
          <p className="ok-note" role="status" data-testid="password-changed">
            Password changed. Your other sessions were signed out.
          </p>
        ) : null}
        <div>
          <button type="submit" className="button primary" disabled={change.isPending} data-testid="change-password">
            {change.isPending ? 'Changing…' : 'Change password'}
          </button>
        </div>
      </form>
    </section>
  );
}
