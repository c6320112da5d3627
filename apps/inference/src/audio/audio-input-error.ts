import type { UploadErrorCode } from '@chorus/api/schemas';

/** What prompt uploads may be, in the words every UNSUPPORTED_FORMAT message uses. */
export const ACCEPTED_AUDIO_FORMATS = 'WAV (PCM 16/24/32-bit or float), FLAC, MP3, OGG (Opus or Vorbis)';

/**
 * Audio a user supplied cannot be used. `code` is the stable upload error code
 * (uploadErrorSchema); `message` says what was found and what is accepted, in words a
 * user can act on.
 */
export class AudioInputError extends Error {
  constructor(
    readonly code: UploadErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'AudioInputError';
  }
}

export function isAudioInputError(err: unknown): err is AudioInputError {
  return err instanceof AudioInputError;
}
