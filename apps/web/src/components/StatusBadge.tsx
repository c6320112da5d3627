import type { JobStatus } from '@chorus/api/schemas';
import { STATUS_LABEL } from '../lib/labels.ts';

export function StatusBadge({ status, testId }: { status: JobStatus; testId?: string }) {
  return (
    <span className={`badge badge-${status}`} data-testid={testId} data-status={status}>
      {STATUS_LABEL[status]}
    </span>
  );
}
