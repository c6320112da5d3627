import { useState, type FormEvent } from 'react';

interface Props {
  pending: boolean;
  onResolve: (note: string) => void;
  onCancel: () => void;
}

/** What was done about the cause, kept with the group (optional). */
export function ResolveForm({ pending, onResolve, onCancel }: Props) {
  const [note, setNote] = useState('');
  const onSubmit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    onResolve(note.trim());
  };
  return (
    <form className="resolve-form" onSubmit={onSubmit} aria-label="Resolve this group">
      <div className="field">
        <label htmlFor="resolve-note">Resolution note</label>
        <textarea
          id="resolve-note"
          rows={2}
          maxLength={2000}
          value={note}
          onChange={(e) => setNote(e.target.value)}
          placeholder="What was fixed, e.g. “Lowered the engine’s concurrency to 1.”"
          autoFocus
          data-testid="resolve-note"
        />
        <p className="help">If these runs fail again after this, the group opens again, marked “reopened”.</p>
      </div>
      <div className="actions">
        <button type="submit" className="button primary" disabled={pending} data-testid="resolve-confirm">
          {pending ? 'Resolving…' : 'Mark resolved'}
        </button>
        <button type="button" className="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  );
}
