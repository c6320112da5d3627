import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import type { CreateJobInput, EngineStatus, JobMode } from '@chorus/api/schemas';
import { useReferenceUpload } from '../../audio/useReferenceUpload.ts';
import { InlineError } from '../../components/InlineError.tsx';
import { countChars } from '../../lib/format.ts';
import { MODE_FIELDS } from '../../lib/labels.ts';
import { parseSeed } from '../../lib/seed.ts';
import { useSubmissionId } from '../../lib/submissionId.ts';
import { hrefs, navigate } from '../../router/hashRouter.ts';
import { useTRPC } from '../../trpc/context.ts';
import { EnginePicker } from './EnginePicker.tsx';
import { InstructField } from './InstructField.tsx';
import { ModePicker } from './ModePicker.tsx';
import { ReferenceVoice } from './ReferenceVoice.tsx';
import { SeedField, type SeedChoice } from './SeedField.tsx';
import { SpeakerSelect } from './SpeakerSelect.tsx';
import { SpeedSlider } from './SpeedSlider.tsx';
import { TextField } from './TextField.tsx';
import { TranscriptField } from './TranscriptField.tsx';

interface Props {
  engines: readonly EngineStatus[];
  engine: EngineStatus;
  onEngineChange: (id: string) => void;
}

/** The job form: fields shown and required per mode; Generate creates the job and opens its page. */
export function NewJobForm({ engines, engine, onEngineChange }: Props) {
  const trpc = useTRPC();
  const [modeChoice, setMode] = useState<JobMode>('zero_shot');
  const mode: JobMode = engine.modes.includes(modeChoice) ? modeChoice : (engine.modes[0] ?? 'zero_shot');
  const [text, setText] = useState('');
  const [promptText, setPromptText] = useState('');
  const [instruct, setInstruct] = useState('');
  const [speakerChoice, setSpeakerId] = useState('');
  const speakerId = engine.speakers.some((s) => s.id === speakerChoice) ? speakerChoice : '';
  const [speed, setSpeed] = useState(1);
  const [seed, setSeed] = useState<SeedChoice>({ random: true, raw: '' });
  const reference = useReferenceUpload();
  const [attempted, setAttempted] = useState(false);

  const submission = useSubmissionId();
  const create = useMutation(
    trpc.job.create.mutationOptions({
      onSuccess: (job) => {
        submission.succeeded();
        navigate(hrefs.job(job.id));
      },
    }),
  );

  const fields = MODE_FIELDS[mode];
  const seedParse = seed.random ? ({ ok: true, seed: undefined } as const) : parseSeed(seed.raw);
  const tooLong = countChars(text) > engine.limits.maxTextChars;
  const uploading = reference.upload.phase === 'uploading';

  /** What is still missing, in the order the form shows it; null when ready. */
  const missing = (): string | null => {
    if (text.trim() === '') return 'Type the text to speak.';
    if (tooLong) return `Text is longer than ${engine.limits.maxTextChars} characters.`;
    if (fields.reference && reference.upload.phase !== 'uploaded') {
      return uploading ? 'Wait for the reference audio to finish uploading.' : 'Add a reference voice (upload a file or record one).';
    }
    if (fields.transcript && promptText.trim() === '') return 'Type the transcript of the reference clip.';
    if (fields.instruct && instruct.trim() === '') return 'Type a style instruction.';
    if (fields.speaker && speakerId === '') return 'Choose a speaker.';
    if (!seedParse.ok) return seedParse.message;
    return null;
  };

  const onSubmit = (e: FormEvent<HTMLFormElement>): void => {
    e.preventDefault();
    setAttempted(true);
    if (missing() !== null || !seedParse.ok) return;
    const input: CreateJobInput = {
      mode,
      text,
      engineId: engine.id,
      speed,
      ...(seedParse.seed !== undefined ? { seed: seedParse.seed } : {}),
      ...(fields.reference && reference.upload.phase === 'uploaded' ? { promptUploadId: reference.upload.result.id } : {}),
      ...(fields.transcript ? { promptText } : {}),
      ...(fields.instruct ? { instruct } : {}),
      ...(fields.speaker ? { speakerId } : {}),
    };
    create.mutate({ ...input, clientRequestId: submission.idFor(input) });
  };

  return (
    <form className="job-form" onSubmit={onSubmit} noValidate aria-label="New job">
      {engines.length > 1 ? <EnginePicker engines={engines} value={engine.id} onChange={onEngineChange} /> : null}
      <ModePicker modes={engine.modes} value={mode} onChange={setMode} />
      <TextField value={text} onChange={setText} maxChars={engine.limits.maxTextChars} />
      {fields.reference ? (
        <ReferenceVoice upload={reference.upload} onAudio={reference.send} onRemove={reference.reset} limits={engine.limits} />
      ) : null}
      {fields.transcript ? <TranscriptField value={promptText} onChange={setPromptText} /> : null}
      {fields.instruct ? <InstructField value={instruct} onChange={setInstruct} vocabulary={engine.instructVocabulary} /> : null}
      {fields.speaker ? <SpeakerSelect speakers={engine.speakers} value={speakerId} onChange={setSpeakerId} /> : null}
      <div className="field-row">
        <SpeedSlider value={speed} onChange={setSpeed} min={engine.limits.speedMin} max={engine.limits.speedMax} />
        <SeedField value={seed} onChange={setSeed} error={seedParse.ok ? null : seedParse.message} reproducible={engine.reproducible} />
      </div>
      <div className="form-actions">
        <button type="submit" className="button primary" disabled={create.isPending || uploading || tooLong} data-testid="generate">
          {create.isPending ? 'Submitting…' : 'Generate'}
        </button>
        <span className="muted">
          {engine.name} {engine.version}
        </span>
      </div>
      <InlineError message={(attempted ? missing() : null) ?? create.error?.message} testId="form-error" />
    </form>
  );
}
