import { useState, type ReactNode } from 'react';

interface Props {
  /** The first button. */
  label: ReactNode;
  /** The question shown after the first click, next to the confirming button. */
  question: ReactNode;
  confirmLabel: ReactNode;
  onConfirm: () => void;
  pending?: boolean;
  danger?: boolean;
  testId: string;
}

/** A two-step button for actions that cannot be undone: click, then confirm (or keep). */
export function ConfirmButton({ label, question, confirmLabel, onConfirm, pending = false, danger = false, testId }: Props) {
  const [asking, setAsking] = useState(false);
  const kind = danger ? 'button danger' : 'button';
  if (!asking) {
    return (
      <button type="button" className={kind} onClick={() => setAsking(true)} disabled={pending} data-testid={testId}>
        {label}
      </button>
    );
  }
  return (
    <span className="confirm" role="group" aria-label="Confirm">
      <span>{question}</span>
      <button
        type="button"
        className={danger ? 'button danger solid' : 'button primary'}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
        disabled={pending}
        data-testid={`${testId}-confirm`}
      >
        {confirmLabel}
      </button>
      <button type="button" className="button" onClick={() => setAsking(false)} data-testid={`${testId}-keep`}>
        Keep
      </button>
    </span>
  );
}
