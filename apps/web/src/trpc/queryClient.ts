import { MutationCache, QueryCache, QueryClient } from '@tanstack/react-query';
import { isFinalError, trpcErrorCode } from './errors.ts';
import { sessionMaybeLost } from './sessionSignals.ts';

/** Any call refused as UNAUTHORIZED: the session may have ended; the auth gate checks and shows sign-in. */
const onError = (error: unknown): void => {
  if (trpcErrorCode(error) === 'UNAUTHORIZED') sessionMaybeLost.emit();
};

export const queryClient = new QueryClient({
  queryCache: new QueryCache({ onError }),
  mutationCache: new MutationCache({ onError }),
  defaultOptions: {
    queries: {
      staleTime: 5_000,
      refetchOnWindowFocus: false,
      // Once for network trouble; never for a refusal (401/403/404…), which would only repeat.
      retry: (failureCount, error) => failureCount < 1 && !isFinalError(error),
    },
  },
});
