import { useMutation, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { InlineError } from '../../components/InlineError.tsx';
import { useTRPC } from '../../trpc/context.ts';

/** The admin's note on one failed run; Save appears once it differs from what is stored. */
export function RunNoteEditor({ jobId, saved }: { jobId: string; saved: string | null }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState(saved ?? '');
  const save = useMutation(
    trpc.failures.noteRun.mutationOptions({
      onSuccess: () => void queryClient.invalidateQueries({ queryKey: trpc.failures.runs.pathKey() }),
    }),
  );
  const changed = draft.trim() !== (saved ?? '');
  const onSubmit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    save.mutate({ jobId, note: draft.trim() });
  };
  return (
    <form className="run-note" onSubmit={onSubmit}>
      <input
        type="text"
        value={draft}
        onChange={(e) => setDraft(e.target.value)}
        maxLength={2000}
        placeholder="Add a note"
        aria-label={`Note on ${jobId}`}
        data-testid="run-note"
      />
      {changed ? (
        <button type="submit" className="button small" disabled={save.isPending} data-testid="run-note-save">
          Save
        </button>
      ) : null}
      <InlineError message={save.error?.message} />
    </form>
  );
}
