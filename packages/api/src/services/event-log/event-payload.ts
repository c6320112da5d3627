import { toJobErrorCode } from '../../schemas/error-codes.ts';
import { jobEventSchema, type JobEvent } from '../../schemas/job-event.ts';

/**
 * A stored event's payload as the API's event. Error events stored before the codes were a
 * closed list may carry any string: read as INTERNAL. `payload` is changed in place, so pass
 * a value of your own (freshly parsed JSON, or a copy).
 */
export function eventFromPayload(payload: unknown): JobEvent {
  if (isStoredErrorEvent(payload)) payload.code = toJobErrorCode(payload.code);
  return jobEventSchema.parse(payload);
}

function isStoredErrorEvent(payload: unknown): payload is { type: 'error'; code: string } {
  return typeof payload === 'object' && payload !== null && 'type' in payload && payload.type === 'error' && 'code' in payload && typeof payload.code === 'string';
}
