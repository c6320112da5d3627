import { useMutation } from '@tanstack/react-query';
import { isTerminalStatus, type JobStatus } from '@chorus/api/schemas';
import { InlineError } from '../../components/InlineError.tsx';
import { hrefs, navigate } from '../../router/hashRouter.ts';
import { useTRPC } from '../../trpc/context.ts';

/** Cancel while the job is live; re-run with the same or a fresh seed (opens the new job). */
export function JobActions({ jobId, status }: { jobId: string; status: JobStatus }) {
  const trpc = useTRPC();
  const cancel = useMutation(trpc.job.cancel.mutationOptions());
  const rerun = useMutation(trpc.job.rerun.mutationOptions({ onSuccess: (job) => navigate(hrefs.job(job.id)) }));
  const live = !isTerminalStatus(status);

  return (
    <div className="job-actions">
      {live ? (
        <button
          type="button"
          className="button danger"
          onClick={() => cancel.mutate({ id: jobId })}
          disabled={cancel.isPending}
          data-testid="cancel"
        >
          {cancel.isPending ? 'Canceling…' : 'Cancel'}
        </button>
      ) : null}
      <button
        type="button"
        className="button"
        onClick={() => rerun.mutate({ id: jobId, seed: 'same' })}
        disabled={rerun.isPending}
        data-testid="rerun-same"
      >
        Re-run same seed
      </button>
      <button
        type="button"
        className="button"
        onClick={() => rerun.mutate({ id: jobId, seed: 'random' })}
        disabled={rerun.isPending}
        data-testid="rerun-new"
      >
        Re-run new seed
      </button>
      <InlineError message={cancel.error?.message ?? rerun.error?.message} testId="action-error" />
    </div>
  );
}
