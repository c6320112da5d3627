import { useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useState } from 'react';
import { useTRPC } from '../../trpc/context.ts';

/**
 * This job's pushes from job.onChange while its page is open: a fresher summary (its queue
 * position moves as jobs ahead leave, with no event of its own) replaces the cached job.get,
 * and a deletion (by its owner, an admin or retention) is reported.
 */
export function useJobChanges(id: string): { deleted: boolean } {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [deletedId, setDeletedId] = useState<string | null>(null);
  useSubscription(
    trpc.job.onChange.subscriptionOptions(undefined, {
      onData: (change) => {
        if (change.job.id !== id) return;
        if (change.kind === 'deleted') {
          setDeletedId(id);
          return;
        }
        // Pushes are coalesced, so one may be older than a refetch that came in meanwhile.
        queryClient.setQueryData(trpc.job.get.queryKey({ id }), (cached) => (cached && cached.lastSeq > change.job.lastSeq ? cached : change.job));
      },
    }),
  );
  return { deleted: deletedId === id };
}
