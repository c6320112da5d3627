import { createContext, useContext } from 'react';
import type { AuthUser } from '@chorus/api/schemas';

/** Who is signed in; provided by the auth gate around every signed-in page. */
export const CurrentUserContext = createContext<AuthUser | null>(null);

export function useCurrentUser(): AuthUser {
  const user = useContext(CurrentUserContext);
  if (!user) throw new Error('useCurrentUser is only for signed-in pages (inside the auth gate).');
  return user;
}
