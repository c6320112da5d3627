import { useSubscription } from '@trpc/tanstack-react-query';
import { useState } from 'react';
import { useTRPC } from '../../trpc/context.ts';

/** Whether job.onChange reported this job deleted (by its owner, an admin or retention) while the page was open. */
export function useJobDeleted(id: string): boolean {
  const trpc = useTRPC();
  const [deletedId, setDeletedId] = useState<string | null>(null);
  useSubscription(
    trpc.job.onChange.subscriptionOptions(undefined, {
      onData: (change) => {
        if (change.kind === 'deleted' && change.job.id === id) setDeletedId(id);
      },
    }),
  );
  return deletedId === id;
}
