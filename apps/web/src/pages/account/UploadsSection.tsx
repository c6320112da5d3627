import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { DataTable } from '../../components/DataTable.tsx';
import { InlineError } from '../../components/InlineError.tsx';
import { formatAudioDuration, formatDateTime, formatSampleRate } from '../../lib/format.ts';
import { useTRPC } from '../../trpc/context.ts';

const megabytes = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** The reference recordings this person sent (their voice data): what uses them, and deleting the unused. */
export function UploadsSection() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const uploads = useQuery(trpc.upload.list.queryOptions({}));
  const remove = useMutation(
    trpc.upload.delete.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.upload.list.queryKey() }),
    }),
  );

  return (
    <section className="card" aria-label="Reference audio">
      <h2>Reference audio</h2>
      <p className="muted small">Recordings you uploaded to clone a voice. One still used by a job is deleted with the last job that uses it; delete unused ones here.</p>
      {uploads.isPending ? (
        <p className="muted">Loading your uploads…</p>
      ) : uploads.isError ? (
        <InlineError message={uploads.error.message} />
      ) : uploads.data.items.length === 0 ? (
        <p className="muted" data-testid="uploads-empty">
          You have no stored reference audio.
        </p>
      ) : (
        <DataTable
          rows={uploads.data.items}
          columns={[
            { header: 'File', className: 'wrap', cell: (u) => u.originalName ?? <span className="muted">recording</span> },
            { header: 'Audio', cell: (u) => `${formatAudioDuration(u.durationMs)} · ${formatSampleRate(u.sampleRate)}` },
            { header: 'Stored', cell: (u) => megabytes(u.storedBytes) },
            { header: 'Uploaded', cell: (u) => formatDateTime(u.createdAt) },
            { header: 'Used by', cell: (u) => (u.jobs === 0 ? <span className="muted">no job</span> : `${u.jobs} job${u.jobs === 1 ? '' : 's'}`) },
            {
              className: 'row-actions',
              cell: (u) =>
                u.jobs > 0 ? (
                  <span className="muted small">Delete its jobs to remove it</span>
                ) : (
                  <button type="button" className="button small danger" onClick={() => remove.mutate({ id: u.id })} disabled={remove.isPending} data-testid="delete-upload">
                    Delete
                  </button>
                ),
            },
          ]}
          rowKey={(u) => u.id}
          testId="uploads"
          rowTestId="upload-row"
          rowData={(u) => ({ 'data-jobs': u.jobs })}
        />
      )}
      <InlineError message={remove.error?.message} />
    </section>
  );
}
