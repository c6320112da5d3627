import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useTRPC } from '../../trpc/context.ts';

/** failures.retry; the groups and runs lists refresh so the new retries count shows. */
export function useRetryFailures() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return useMutation(
    trpc.failures.retry.mutationOptions({
      onSuccess: () => {
        void queryClient.invalidateQueries({ queryKey: trpc.failures.groups.pathKey() });
        void queryClient.invalidateQueries({ queryKey: trpc.failures.runs.pathKey() });
      },
    }),
  );
}
