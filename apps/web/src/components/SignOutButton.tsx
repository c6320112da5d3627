import { useMutation } from '@tanstack/react-query';
import { useSessionTransitions } from '../auth/session.ts';
import { hrefs, navigate } from '../router/hashRouter.ts';
import { useTRPC } from '../trpc/context.ts';

/** Ends this session on the server (which clears the cookie), then shows the sign-in page. */
export function SignOutButton() {
  const trpc = useTRPC();
  const { signedOut } = useSessionTransitions();
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      // Signed out here either way: a failed call (server gone) must not keep the page signed in.
      onSettled: () => {
        navigate(hrefs.login());
        signedOut();
      },
    }),
  );
  return (
    <button type="button" className="button small" onClick={() => logout.mutate()} disabled={logout.isPending} data-testid="sign-out">
      {logout.isPending ? 'Signing out…' : 'Sign out'}
    </button>
  );
}
