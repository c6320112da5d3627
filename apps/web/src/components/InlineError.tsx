/** A short error next to whatever caused it (form, button row, page). */
export function InlineError({ message, testId }: { message: string | null | undefined; testId?: string }) {
  if (!message) return null;
  return (
    <p className="inline-error" role="alert" data-testid={testId}>
      {message}
    </p>
  );
}
