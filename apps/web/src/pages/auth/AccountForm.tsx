import { useState, type FormEvent } from 'react';
import { InlineError } from '../../components/InlineError.tsx';
import { passwordProblem } from '../../lib/password.ts';
import { EmailField, NameField, NewPasswordField } from './AuthFields.tsx';

export interface AccountDetails {
  email: string;
  name: string;
  password: string;
}

/**
 * Email, name and a new password, checked against the password rule before it is sent: the
 * form that creates an account (the first admin's setup link, an invite link).
 */
export function AccountForm({
  idPrefix,
  label,
  fixedEmail = null,
  pending,
  serverError,
  errorTestId,
  submitTestId,
  submitLabel,
  pendingLabel,
  onSubmit,
}: {
  idPrefix: string;
  /** The form's accessible name. */
  label: string;
  /** An email the account must use (an invite bound to one): shown, not editable. */
  fixedEmail?: string | null;
  pending: boolean;
  serverError: string | undefined;
  errorTestId: string;
  submitTestId: string;
  submitLabel: string;
  pendingLabel: string;
  onSubmit: (details: AccountDetails) => void;
}) {
  const [emailInput, setEmail] = useState('');
  const [name, setName] = useState('');
  const [password, setPassword] = useState('');
  const [problem, setProblem] = useState<string | null>(null);
  const email = fixedEmail ?? emailInput;

  const submit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const tooWeak = passwordProblem(password);
    setProblem(tooWeak);
    if (tooWeak) return;
    onSubmit({ email, name, password });
  };

  return (
    <form className="auth-form" onSubmit={submit} aria-label={label}>
      <EmailField id={`${idPrefix}-email`} value={email} onChange={setEmail} readOnly={fixedEmail !== null} autoFocus={fixedEmail === null} />
      <NameField id={`${idPrefix}-name`} value={name} onChange={setName} />
      <NewPasswordField id={`${idPrefix}-password`} value={password} onChange={setPassword} />
      <InlineError message={problem ?? serverError} testId={errorTestId} />
      <button type="submit" className="button primary" disabled={pending} data-testid={submitTestId}>
        {pending ? pendingLabel : submitLabel}
      </button>
    </form>
  );
}
