import { useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useReducer } from 'react';
import { isTerminalStatus, type JobEvent } from '@chorus/api/schemas';
import { applyJobEvent, initialLiveJobState, type LiveJobState } from '../../lib/jobEvents.ts';
import { useTRPC } from '../../trpc/context.ts';

/**
 * Follow one job's event stream: the server replays the stored log, then streams live
 * events and completes after the terminal status. On reconnect wsLink resends the last
 * tracked id, so only missed events arrive; the reducer drops any duplicate by seq.
 */
export function useJobEvents(jobId: string): { live: LiveJobState; streamError: string | null } {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [live, dispatch] = useReducer(applyJobEvent, initialLiveJobState);

  const subscription = useSubscription(
    trpc.job.events.subscriptionOptions(
      { id: jobId },
      {
        onData: (tracked) => {
          const event: JobEvent = tracked.data;
          dispatch(event);
          if (event.type === 'status' && isTerminalStatus(event.status)) {
            // The summary (finish time, output facts) and history rows changed for good.
            void queryClient.invalidateQueries({ queryKey: trpc.job.get.queryKey({ id: jobId }) });
          }
        },
      },
    ),
  );

  return { live, streamError: subscription.status === 'error' ? subscription.error.message : null };
}
