import { useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useRef } from 'react';
import { isTerminalStatus } from '@chorus/api/schemas';
import { useTRPC } from '../../trpc/context.ts';

/**
 * Keeps the review live: each new failure (failures.onFailure) refreshes the groups and that
 * group's runs; a retry that ends in another way (job.onChange) refreshes the retry counts.
 */
export function useFailureFeed(): { liveError: string | null } {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const refreshGroups = (): void => void queryClient.invalidateQueries({ queryKey: trpc.failures.groups.pathKey() });
  const refreshRuns = (fingerprint: string | null): void =>
    void queryClient.invalidateQueries({ queryKey: fingerprint ? trpc.failures.runs.queryKey({ fingerprint }) : trpc.failures.runs.pathKey() });

  const startedBefore = useRef(false);
  const failures = useSubscription(
    trpc.failures.onFailure.subscriptionOptions(undefined, {
      onStarted: () => {
        // Failures while the socket was down were not pushed: reload.
        if (startedBefore.current) {
          refreshGroups();
          refreshRuns(null);
        }
        startedBefore.current = true;
      },
      onData: (failure) => {
        refreshGroups();
        refreshRuns(failure.fingerprint);
      },
    }),
  );
  const changes = useSubscription(
    trpc.job.onChange.subscriptionOptions(undefined, {
      onData: (change) => {
        const job = change.job;
        // Failed retries arrive through onFailure; this catches the ones that succeeded or were canceled.
        if (job.parentRelation === 'retry' && isTerminalStatus(job.status) && job.status !== 'failed') {
          refreshGroups();
          refreshRuns(null);
        }
      },
    }),
  );
  const error = failures.status === 'error' ? failures.error : changes.status === 'error' ? changes.error : null;
  return { liveError: error?.message ?? null };
}
