import { PASSWORD_RULE } from '@chorus/api/schemas';

interface TextProps {
  id: string;
  value: string;
  onChange: (value: string) => void;
  readOnly?: boolean;
  autoFocus?: boolean;
}

export function EmailField({ id, value, onChange, readOnly, autoFocus }: TextProps) {
  return (
    <div className="field">
      <label htmlFor={id}>Email</label>
      <input
        id={id}
        type="email"
        autoComplete="email"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        readOnly={readOnly}
        autoFocus={autoFocus}
        required
        data-testid="email-input"
      />
    </div>
  );
}

export function NameField({ id, value, onChange }: TextProps) {
  return (
    <div className="field">
      <label htmlFor={id}>Name</label>
      <input id={id} type="text" autoComplete="name" value={value} onChange={(e) => onChange(e.target.value)} required data-testid="name-input" />
      <p className="help">Shown to the team on the jobs you create.</p>
    </div>
  );
}

/** A password being chosen: the server's rule is shown under it. */
export function NewPasswordField({ id, value, onChange, label = 'Password', testId = 'password-input' }: TextProps & { label?: string; testId?: string }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="password" autoComplete="new-password" value={value} onChange={(e) => onChange(e.target.value)} required data-testid={testId} />
      <p className="help" data-testid="password-rule">
        {PASSWORD_RULE}
      </p>
    </div>
  );
}

/** A password being typed to prove who one is (sign-in, or before changing it). */
export function CurrentPasswordField({ id, value, onChange, label, testId }: TextProps & { label: string; testId: string }) {
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      <input id={id} type="password" autoComplete="current-password" value={value} onChange={(e) => onChange(e.target.value)} required data-testid={testId} />
    </div>
  );
}
