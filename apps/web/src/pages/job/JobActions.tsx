import { useMutation, useQueryClient } from '@tanstack/react-query';
import { isTerminalStatus, type JobStatus, type JobSummary } from '@chorus/api/schemas';
import { useCurrentUser } from '../../auth/CurrentUser.ts';
import { canManageJob, canRerun } from '../../auth/permissions.ts';
import { ConfirmButton } from '../../components/ConfirmButton.tsx';
import { InlineError } from '../../components/InlineError.tsx';
import { removeJob } from '../../lib/jobListCache.ts';
import { useSubmissionId } from '../../lib/submissionId.ts';
import { hrefs, navigate } from '../../router/hashRouter.ts';
import { useTRPC } from '../../trpc/context.ts';

/**
 * What this person may do to the job: cancel while live and delete once finished (their own
 * jobs, or anyone's for admins); re-run with the same or a fresh seed (members and admins).
 */
export function JobActions({ job, status }: { job: JobSummary; status: JobStatus }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const user = useCurrentUser();
  const cancel = useMutation(trpc.job.cancel.mutationOptions());
  const submission = useSubmissionId();
  const rerun = useMutation(
    trpc.job.rerun.mutationOptions({
      onSuccess: (created) => {
        submission.succeeded();
        navigate(hrefs.job(created.id));
      },
    }),
  );
  const rerunWith = (seed: 'same' | 'random'): void => rerun.mutate({ id: job.id, seed, clientRequestId: submission.idFor({ id: job.id, seed }) });
  const remove = useMutation(
    trpc.job.delete.mutationOptions({
      onSuccess: () => {
        navigate(hrefs.history());
        queryClient.setQueriesData({ queryKey: trpc.job.list.pathKey() }, (data: Parameters<typeof removeJob>[0]) => removeJob(data, job.id));
        // Not removed while this page is still mounted (it would refetch and flash "does not exist").
        void queryClient.invalidateQueries({ queryKey: trpc.job.get.queryKey({ id: job.id }), refetchType: 'none' });
      },
    }),
  );
  const live = !isTerminalStatus(status);
  const manage = canManageJob(user, job);
  const mayRerun = canRerun(user);
  if (!manage && !mayRerun) return null;

  return (
    <div className="job-actions">
      {live && manage ? (
        <button type="button" className="button danger" onClick={() => cancel.mutate({ id: job.id })} disabled={cancel.isPending} data-testid="cancel">
          {cancel.isPending ? 'Canceling…' : 'Cancel'}
        </button>
      ) : null}
      {mayRerun ? (
        <>
          <button type="button" className="button" onClick={() => rerunWith('same')} disabled={rerun.isPending} data-testid="rerun-same">
            Re-run same seed
          </button>
          <button type="button" className="button" onClick={() => rerunWith('random')} disabled={rerun.isPending} data-testid="rerun-new">
            Re-run new seed
          </button>
        </>
      ) : null}
      {!live && manage ? (
        <ConfirmButton
          label="Delete"
          question="Delete this job, its log and its audio for good?"
          confirmLabel={remove.isPending ? 'Deleting…' : 'Delete job'}
          onConfirm={() => remove.mutate({ id: job.id })}
          pending={remove.isPending}
          danger
          testId="delete"
        />
      ) : null}
      <InlineError message={cancel.error?.message ?? rerun.error?.message ?? remove.error?.message} testId="action-error" />
    </div>
  );
}
