import type { EngineLimits } from '@chorus/api/schemas';
import type { ReferenceUpload } from '../../audio/useReferenceUpload.ts';
import { useRecorder } from '../../audio/useRecorder.ts';
import { useElapsed } from '../../hooks/useElapsed.ts';
import { formatAudioDuration, formatSampleRate } from '../../lib/format.ts';
import { WARNING_LABEL } from '../../lib/labels.ts';

interface Props {
  upload: ReferenceUpload;
  onAudio: (audio: Blob, name: string) => void;
  onRemove: () => void;
  limits: EngineLimits;
}

/** Reference voice: pick a file or record from the microphone; either is uploaded and measured by the server. */
export function ReferenceVoice({ upload, onAudio, onRemove, limits }: Props) {
  const recorder = useRecorder((wav) => onAudio(wav, `recording-${new Date().toISOString().slice(11, 19)}.wav`));
  const recording = recorder.state.phase === 'recording';
  const elapsed = useElapsed(recorder.state.phase === 'recording' ? recorder.state.startedAt : null);

  return (
    <fieldset className="field reference">
      <legend>Reference voice</legend>
      <p className="help">
        {limits.promptMinMs / 1000}–{limits.promptMaxMs / 1000} s of clean speech, at least {formatSampleRate(limits.promptMinSampleRate)}
        {limits.promptPreferredSampleRate > limits.promptMinSampleRate ? ` (${formatSampleRate(limits.promptPreferredSampleRate)} or more is best)` : ''}.
      </p>
      <div className="reference-inputs">
        <label className="button file-button">
          Choose audio file…
          <input
            type="file"
            accept="audio/*"
            className="visually-hidden"
            disabled={recording}
            onChange={(e) => {
              const file = e.target.files?.[0];
              if (file) onAudio(file, file.name);
              e.target.value = '';
            }}
            data-testid="reference-file"
          />
        </label>
        <span className="muted">or</span>
        {recording ? (
          <button type="button" className="button danger" onClick={recorder.stop} data-testid="record-stop">
            ■ Stop ({(elapsed / 1000).toFixed(1)} s)
          </button>
        ) : (
          <button
            type="button"
            className="button"
            onClick={() => void recorder.start()}
            disabled={!recorder.supported || recorder.state.phase === 'requesting' || recorder.state.phase === 'encoding'}
            title={recorder.supported ? undefined : 'This browser cannot record audio here (needs https or localhost).'}
            data-testid="record-start"
          >
            ● {recorder.state.phase === 'encoding' ? 'Encoding…' : recorder.state.phase === 'requesting' ? 'Waiting for microphone…' : 'Record'}
          </button>
        )}
      </div>
      {recorder.state.phase === 'error' ? <p className="inline-error">{recorder.state.message}</p> : null}
      <UploadStatus upload={upload} onRemove={onRemove} />
    </fieldset>
  );
}

function UploadStatus({ upload, onRemove }: { upload: ReferenceUpload; onRemove: () => void }) {
  if (upload.phase === 'empty') return null;
  return (
    <div
      className={`upload-status upload-${upload.phase}${upload.phase === 'uploaded' && upload.result.warnings.length > 0 ? ' upload-warned' : ''}`}
      data-testid="upload-status"
      data-phase={upload.phase}
    >
      <div className="upload-head">
        <span className="upload-name">{upload.name}</span>
        <button type="button" className="button small" onClick={onRemove}>
          Remove
        </button>
      </div>
      <audio controls src={upload.previewUrl} preload="metadata" aria-label="Reference voice preview" />
      {upload.phase === 'uploading' ? <p className="muted">Uploading and measuring…</p> : null}
      {upload.phase === 'failed' ? (
        <p className="inline-error" role="alert" data-testid="upload-error">
          <code>{upload.code}</code> {upload.message}
        </p>
      ) : null}
      {upload.phase === 'uploaded' ? (
        <>
          <p className="upload-facts" data-testid="upload-facts">
            {formatAudioDuration(upload.result.durationMs)} · {formatSampleRate(upload.result.sampleRate)} · {upload.result.format.toUpperCase()}
            {upload.result.channels > 1 ? ` · ${upload.result.channels} channels (mixed to mono)` : ' · mono'}
          </p>
          {upload.result.warnings.length > 0 ? (
            <ul className="warnings" data-testid="upload-warnings">
              {upload.result.warnings.map((w) => (
                <li key={w.code}>
                  <strong>{WARNING_LABEL[w.code]}:</strong> {w.message}
                </li>
              ))}
            </ul>
          ) : null}
        </>
      ) : null}
    </div>
  );
}
