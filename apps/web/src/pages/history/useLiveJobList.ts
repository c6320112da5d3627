import { hashKey, useInfiniteQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useRef } from 'react';
import { applyJobChange, removeJob, type JobListFilter } from '../../lib/jobListCache.ts';
import { useTRPC } from '../../trpc/context.ts';

const PAGE_SIZE = 20;

/**
 * The history list: pages from job.list (newest first, "Load more" via nextCursor), kept
 * live by job.onChange, which patches rows in the React Query cache as jobs are created
 * and progress, and drops them when they are deleted.
 */
export function useLiveJobList(filter: JobListFilter) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const input = { limit: PAGE_SIZE, createdBy: filter.createdBy, ...(filter.status ? { status: filter.status } : {}) };
  const listOptions = trpc.job.list.infiniteQueryOptions(input, {
    getNextPageParam: (lastPage) => lastPage.nextCursor,
  });
  const list = useInfiniteQuery(listOptions);

  const startedBefore = useRef(false);
  const changes = useSubscription(
    trpc.job.onChange.subscriptionOptions(undefined, {
      onStarted: () => {
        // After a reconnect, changes made while we were away were not pushed: reload.
        if (startedBefore.current) void queryClient.invalidateQueries({ queryKey: trpc.job.list.pathKey() });
        startedBefore.current = true;
      },
      onData: (change) => {
        queryClient.setQueryData(listOptions.queryKey, (data) => applyJobChange(data, change, filter));
        if (change.kind === 'deleted') {
          // Gone for every filter, and its page would now answer "does not exist".
          queryClient.setQueriesData({ queryKey: trpc.job.list.pathKey() }, (data: Parameters<typeof removeJob>[0]) => removeJob(data, change.job.id));
          queryClient.removeQueries({ queryKey: trpc.job.get.queryKey({ id: change.job.id }) });
          return;
        }
        // Lists under other filters are refetched when next shown.
        void queryClient.invalidateQueries({
          queryKey: trpc.job.list.pathKey(),
          predicate: (query) => query.queryHash !== hashKey(listOptions.queryKey),
          refetchType: 'none',
        });
        // A job page open elsewhere in this tab sees the fresh summary too.
        queryClient.setQueryData(trpc.job.get.queryKey({ id: change.job.id }), change.job);
      },
    }),
  );

  return { list, liveError: changes.status === 'error' ? changes.error.message : null };
}
