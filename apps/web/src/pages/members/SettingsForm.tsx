import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { SETTING_LIMITS, type WorkspaceSettings } from '@chorus/api/schemas';
import { InlineError } from '../../components/InlineError.tsx';
import { useTRPC } from '../../trpc/context.ts';

const MB = 1024 * 1024;

/** The form's text for each setting; the upload quota is edited in MB. */
type Draft = Record<keyof WorkspaceSettings, string>;

const toDraft = (s: WorkspaceSettings): Draft => ({
  jobsPerMinute: String(s.jobsPerMinute),
  uploadsPerHour: String(s.uploadsPerHour),
  uploadBytesPerMember: String(Math.round((s.uploadBytesPerMember / MB) * 10) / 10),
  retentionDays: String(s.retentionDays),
});

/** A whole number from 0 to max, or null. */
function wholeNumber(raw: string, max: number): number | null {
  const n = Number(raw.trim());
  return raw.trim() !== '' && Number.isInteger(n) && n >= 0 && n <= max ? n : null;
}

const MAX_MB = SETTING_LIMITS.uploadBytesPerMember.max / MB;

function fromDraft(d: Draft): { ok: true; settings: WorkspaceSettings } | { ok: false; message: string } {
  const jobsPerMinute = wholeNumber(d.jobsPerMinute, SETTING_LIMITS.jobsPerMinute.max);
  const uploadsPerHour = wholeNumber(d.uploadsPerHour, SETTING_LIMITS.uploadsPerHour.max);
  const retentionDays = wholeNumber(d.retentionDays, SETTING_LIMITS.retentionDays.max);
  const mb = Number(d.uploadBytesPerMember.trim());
  if (jobsPerMinute === null) return { ok: false, message: `Jobs per minute must be a whole number from 0 to ${SETTING_LIMITS.jobsPerMinute.max} (0 = no limit).` };
  if (uploadsPerHour === null) return { ok: false, message: `Uploads per hour must be a whole number from 0 to ${SETTING_LIMITS.uploadsPerHour.max} (0 = no limit).` };
  if (d.uploadBytesPerMember.trim() === '' || !Number.isFinite(mb) || mb < 0 || mb > MAX_MB) {
    return { ok: false, message: `Upload storage must be a number of MB from 0 to ${MAX_MB} (0 = no limit).` };
  }
  if (retentionDays === null) return { ok: false, message: `Keep jobs for must be a whole number of days from 0 to ${SETTING_LIMITS.retentionDays.max} (0 = forever).` };
  return { ok: true, settings: { jobsPerMinute, uploadsPerHour, uploadBytesPerMember: Math.round(mb * MB), retentionDays } };
}

const FIELDS: ReadonlyArray<{ key: keyof WorkspaceSettings; label: string; unit: string; help: string }> = [
  { key: 'jobsPerMinute', label: 'Jobs per minute', unit: 'per person', help: 'How many jobs one person may submit per minute.' },
  { key: 'uploadsPerHour', label: 'Uploads per hour', unit: 'per person', help: 'Reference recordings one person may upload per hour.' },
  { key: 'uploadBytesPerMember', label: 'Upload storage', unit: 'MB per person', help: 'Reference audio one person may keep stored.' },
  { key: 'retentionDays', label: 'Keep jobs for', unit: 'days', help: 'Finished jobs older than this are deleted with their audio.' },
];

/** Per-person limits and retention; 0 means no limit (or keep forever). */
export function SettingsForm() {
  const trpc = useTRPC();
  const settings = useQuery(trpc.settings.get.queryOptions());
  return (
    <section className="card" aria-label="Limits and retention">
      <h2>Limits and retention</h2>
      <p className="help">0 means no limit (for retention: keep jobs forever).</p>
      {settings.isPending ? (
        <p className="muted">Loading settings…</p>
      ) : settings.isError ? (
        <InlineError message={settings.error.message} />
      ) : (
        <SettingsDraft saved={settings.data} />
      )}
    </section>
  );
}

function SettingsDraft({ saved }: { saved: WorkspaceSettings }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [draft, setDraft] = useState<Draft>(() => toDraft(saved));
  const [problem, setProblem] = useState<string | null>(null);
  const update = useMutation(
    trpc.settings.update.mutationOptions({
      onSuccess: (next) => queryClient.setQueryData(trpc.settings.get.queryKey(), next),
    }),
  );
  const [savedNote, setSavedNote] = useState(false);

  const onSubmit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    const parsed = fromDraft(draft);
    setProblem(parsed.ok ? null : parsed.message);
    if (!parsed.ok) return;
    update.mutate(parsed.settings, { onSuccess: () => setSavedNote(true) });
  };

  return (
    <form className="settings-form" onSubmit={onSubmit}>
      <div className="settings-grid">
        {FIELDS.map((f) => (
          <div className="field" key={f.key}>
            <label htmlFor={`setting-${f.key}`}>{f.label}</label>
            <div className="unit-row">
              <input
                id={`setting-${f.key}`}
                type="number"
                min={0}
                max={f.key === 'uploadBytesPerMember' ? MAX_MB : SETTING_LIMITS[f.key].max}
                step={f.key === 'uploadBytesPerMember' ? 'any' : 1}
                value={draft[f.key]}
                onChange={(e) => {
                  setSavedNote(false);
                  setDraft({ ...draft, [f.key]: e.target.value });
                }}
                data-testid={`setting-${f.key}`}
              />
              <span className="muted small">{f.unit}</span>
            </div>
            <p className="help">{f.help}</p>
          </div>
        ))}
      </div>
      <InlineError message={problem ?? update.error?.message} testId="settings-error" />
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={update.isPending} data-testid="save-settings">
          {update.isPending ? 'Saving…' : 'Save'}
        </button>
        {savedNote ? (
          <span className="ok-note" role="status">
            Saved.
          </span>
        ) : null}
      </div>
    </form>
  );
}
