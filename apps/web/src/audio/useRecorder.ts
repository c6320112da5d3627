import { useCallback, useEffect, useRef, useState } from 'react';
import { recordingToWav } from './recording.ts';

export type RecorderState =
  | { phase: 'idle' }
  | { phase: 'requesting' }
  | { phase: 'recording'; startedAt: number }
  | { phase: 'encoding' }
  | { phase: 'error'; message: string };

/**
 * Microphone capture: MediaRecorder while recording, then decode + re-encode as a 16-bit
 * mono WAV (what the server measures best). `onRecorded` receives the WAV.
 */
export function useRecorder(onRecorded: (wav: Blob) => void): {
  state: RecorderState;
  supported: boolean;
  start: () => Promise<void>;
  stop: () => void;
} {
  const [state, setState] = useState<RecorderState>({ phase: 'idle' });
  const recorderRef = useRef<MediaRecorder | null>(null);
  const onRecordedRef = useRef(onRecorded);
  onRecordedRef.current = onRecorded;

  const supported = typeof navigator !== 'undefined' && !!navigator.mediaDevices?.getUserMedia && typeof MediaRecorder !== 'undefined';

  const start = useCallback(async () => {
    setState({ phase: 'requesting' });
    let stream: MediaStream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: { channelCount: 1, echoCancellation: false, noiseSuppression: false } });
    } catch (err) {
      const denied = err instanceof DOMException && err.name === 'NotAllowedError';
      setState({ phase: 'error', message: denied ? 'Microphone access was denied.' : `No microphone available: ${err instanceof Error ? err.message : String(err)}` });
      return;
    }
    const chunks: Blob[] = [];
    const recorder = new MediaRecorder(stream);
    recorderRef.current = recorder;
    recorder.ondataavailable = (e) => {
      if (e.data.size > 0) chunks.push(e.data);
    };
    recorder.onstop = () => {
      stream.getTracks().forEach((t) => t.stop());
      recorderRef.current = null;
      setState({ phase: 'encoding' });
      recordingToWav(new Blob(chunks, { type: recorder.mimeType }))
        .then((wav) => {
          setState({ phase: 'idle' });
          onRecordedRef.current(wav);
        })
        .catch((err: unknown) => setState({ phase: 'error', message: `Could not decode the recording: ${err instanceof Error ? err.message : String(err)}` }));
    };
    recorder.start();
    setState({ phase: 'recording', startedAt: Date.now() });
  }, []);

  const stop = useCallback(() => {
    if (recorderRef.current?.state === 'recording') recorderRef.current.stop();
  }, []);

  // Release the microphone if the component goes away mid-recording.
  useEffect(
    () => () => {
      const recorder = recorderRef.current;
      if (recorder && recorder.state !== 'inactive') {
        recorder.onstop = null;
        recorder.stop();
        recorder.stream.getTracks().forEach((t) => t.stop());
      }
    },
    [],
  );

  return { state, supported, start, stop };
}
