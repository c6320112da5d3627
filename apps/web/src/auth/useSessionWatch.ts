import { useQueryClient } from '@tanstack/react-query';
import { useEffect } from 'react';
import { useTRPC } from '../trpc/context.ts';
import { wsClient } from '../trpc/links.ts';
import { sessionEnded, sessionMaybeLost } from '../trpc/sessionSignals.ts';

/**
 * Listens for signs that the sign-in ended (a 401 anywhere, a dropped socket, the server's
 * 4401 close) and asks auth.status again; the gate then shows the sign-in page if need be.
 */
export function useSessionWatch(): void {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  useEffect(() => {
    const recheck = (): void => void queryClient.invalidateQueries({ queryKey: trpc.auth.status.queryKey() });
    const stopMaybe = sessionMaybeLost.subscribe(recheck);
    const stopEnded = sessionEnded.subscribe(() => {
      // The server will refuse every reconnect: stop trying, then confirm with auth.status.
      void wsClient.close();
      recheck();
    });
    return () => {
      stopMaybe();
      stopEnded();
    };
  }, [queryClient, trpc]);
}
