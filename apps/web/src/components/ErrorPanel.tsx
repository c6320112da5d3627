import type { JobErrorCode } from '@chorus/api/schemas';
import { jobErrorText } from '../lib/labels.ts';

interface Props {
  code: JobErrorCode;
  message: string;
  hint: string | null;
}

/** Why a job failed: the engine's stable code and what it means, its message, and advice. */
export function ErrorPanel({ code, message, hint }: Props) {
  const text = jobErrorText(code, hint);
  return (
    <div className="error-panel" role="alert" data-testid="job-error">
      <div>
        <strong>Failed</strong> <code data-testid="job-error-code">{code}</code> <span data-testid="job-error-label">{text.label}</span>
      </div>
      <p data-testid="job-error-message">{message}</p>
      <p className="hint">{text.hint}</p>
    </div>
  );
}
