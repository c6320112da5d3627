import { hashKey, useQuery, useQueryClient, type QueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef } from 'react';
import type { AuthUser } from '@chorus/api/schemas';
import { useTRPC } from '../trpc/context.ts';
import { wsClient } from '../trpc/links.ts';

/** auth.status: whether setup is done and who is signed in. The one source of truth for the gate. */
export function useAuthStatus() {
  const trpc = useTRPC();
  return useQuery(trpc.auth.status.queryOptions(undefined, { staleTime: 60_000, retry: 2 }));
}

/** Everything cached belongs to whoever was signed in: drop it all but auth.status. */
function forgetCachedData(queryClient: QueryClient, statusKey: readonly unknown[]): void {
  const statusHash = hashKey(statusKey);
  queryClient.removeQueries({ predicate: (query) => query.queryHash !== statusHash });
}

/**
 * Sign-in and sign-out as the rest of the app sees them. The cookie is set or cleared by
 * the HTTP answer; the socket is closed so the next subscription connects with the new
 * cookie, and the cache starts over for the new person.
 */
export function useSessionTransitions() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();

  const signedIn = useCallback(
    async (user: AuthUser): Promise<void> => {
      const statusKey = trpc.auth.status.queryKey();
      await wsClient.close();
      forgetCachedData(queryClient, statusKey);
      queryClient.setQueryData(statusKey, { ready: true, user });
    },
    [queryClient, trpc],
  );

  /** After auth.logout: the gate shows sign-in, and useSignOutCleanup closes the socket. */
  const signedOut = useCallback((): void => {
    queryClient.setQueryData(trpc.auth.status.queryKey(), { ready: true, user: null });
  }, [queryClient, trpc]);

  return { signedIn, signedOut };
}

/**
 * Whenever the signed-in person goes away (sign-out, session ended, revoked elsewhere): close
 * the socket (it carried their cookie, and a refused reconnect would loop) and forget their
 * data. Runs after the signed-in pages have unmounted, so nothing refetches it.
 */
export function useSignOutCleanup(userId: string | null): void {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const previous = useRef(userId);
  useEffect(() => {
    const was = previous.current;
    previous.current = userId;
    // A switch to another person went through signedIn, which did this before their pages mounted.
    if (was === null || userId !== null) return;
    void wsClient.close();
    forgetCachedData(queryClient, trpc.auth.status.queryKey());
  }, [userId, queryClient, trpc]);
}
