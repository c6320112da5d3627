import { PASSWORD_MAX, PASSWORD_MIN, PASSWORD_RULE } from '@chorus/api/schemas';

/** The server's password rule checked before sending (it counts code points, so do we); null when fine. */
export function passwordProblem(password: string): string | null {
  const length = [...password].length;
  if (length < PASSWORD_MIN) return `Password is too short. ${PASSWORD_RULE}`;
  if (length > PASSWORD_MAX) return `Password is too long. ${PASSWORD_RULE}`;
  return null;
}
