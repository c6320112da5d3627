import { useCallback, useEffect, useRef, useState } from 'react';
import type { UploadResult } from '@chorus/api/schemas';
import { UploadFailure, uploadAudio } from './upload.ts';

export type ReferenceUpload =
  | { phase: 'empty' }
  | { phase: 'uploading'; name: string; previewUrl: string }
  | { phase: 'uploaded'; name: string; previewUrl: string; result: UploadResult }
  | { phase: 'failed'; name: string; previewUrl: string; code: string; message: string };

/** Upload one reference clip at a time (a newer pick cancels the older upload) and keep a local preview. */
export function useReferenceUpload(): {
  upload: ReferenceUpload;
  send: (audio: Blob, name: string) => void;
  reset: () => void;
} {
  const [upload, setUpload] = useState<ReferenceUpload>({ phase: 'empty' });
  const abortRef = useRef<AbortController | null>(null);
  const previewRef = useRef<string | null>(null);

  const replacePreview = (url: string | null): void => {
    if (previewRef.current) URL.revokeObjectURL(previewRef.current);
    previewRef.current = url;
  };

  const send = useCallback((audio: Blob, name: string) => {
    abortRef.current?.abort();
    const abort = new AbortController();
    abortRef.current = abort;
    const previewUrl = URL.createObjectURL(audio);
    replacePreview(previewUrl);
    setUpload({ phase: 'uploading', name, previewUrl });
    uploadAudio(audio, name, abort.signal).then(
      (result) => {
        if (!abort.signal.aborted) setUpload({ phase: 'uploaded', name, previewUrl, result });
      },
      (err: unknown) => {
        if (abort.signal.aborted) return;
        const code = err instanceof UploadFailure ? err.code : 'NETWORK';
        const message = err instanceof Error ? err.message : String(err);
        setUpload({ phase: 'failed', name, previewUrl, code, message });
      },
    );
  }, []);

  const reset = useCallback(() => {
    abortRef.current?.abort();
    replacePreview(null);
    setUpload({ phase: 'empty' });
  }, []);

  useEffect(
    () => () => {
      abortRef.current?.abort();
      replacePreview(null);
    },
    [],
  );

  return { upload, send, reset };
}
