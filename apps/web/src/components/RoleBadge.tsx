import type { Role } from '@chorus/api/schemas';
import { ROLE_LABEL } from '../auth/permissions.ts';

export function RoleBadge({ role, testId = 'role-badge' }: { role: Role; testId?: string }) {
  return (
    <span className={`role-badge role-${role}`} data-testid={testId} data-role={role}>
      {ROLE_LABEL[role]}
    </span>
  );
}
