import type { Role } from '@chorus/api/schemas';
import { useCurrentUser } from '../auth/CurrentUser.ts';
import { homeHref, ROLE_LABEL } from '../auth/permissions.ts';

/** A page the signed-in role may not use (the server would answer FORBIDDEN). */
export function NotAllowed({ needed }: { needed: Role }) {
  const user = useCurrentUser();
  return (
    <div className="page" data-testid="not-allowed">
      <h1>Not available</h1>
      <p>
        This page needs the {ROLE_LABEL[needed].toLowerCase()} role; you are signed in as a {ROLE_LABEL[user.role].toLowerCase()}.{' '}
        <a href={homeHref(user)}>Back to the start</a>.
      </p>
    </div>
  );
}
