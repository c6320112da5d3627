interface Props {
  code: string;
  message: string;
  hint: string | null;
}

/** Why a job failed, with the engine's stable code and its advice. */
export function ErrorPanel({ code, message, hint }: Props) {
  return (
    <div className="error-panel" role="alert" data-testid="job-error">
      <div>
        <strong>Failed</strong> <code data-testid="job-error-code">{code}</code>
      </div>
      <p data-testid="job-error-message">{message}</p>
      {hint ? <p className="hint">{hint}</p> : null}
    </div>
  );
}
