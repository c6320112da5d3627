import { useCurrentUser } from '../auth/CurrentUser.ts';
import { ROLE_DESCRIPTION } from '../auth/permissions.ts';
import { RoleBadge } from '../components/RoleBadge.tsx';
import { ApiTokensSection } from './account/ApiTokensSection.tsx';
import { ChangePasswordForm } from './account/ChangePasswordForm.tsx';
import { SessionsSection } from './account/SessionsSection.tsx';
import { UploadsSection } from './account/UploadsSection.tsx';

/** Who you are, your password, where you are signed in, your API tokens and your reference audio. */
export function AccountPage() {
  const user = useCurrentUser();
  return (
    <div className="page account-page">
      <div className="page-head">
        <h1>Your account</h1>
      </div>
      <section className="card" aria-label="Profile">
        <dl className="facts">
          <dt>Name</dt>
          <dd data-testid="account-name">{user.name}</dd>
          <dt>Email</dt>
          <dd data-testid="account-email">{user.email}</dd>
          <dt>Role</dt>
          <dd>
            <RoleBadge role={user.role} testId="account-role" /> <span className="muted small">{ROLE_DESCRIPTION[user.role]}</span>
          </dd>
        </dl>
      </section>
      <ChangePasswordForm />
      <SessionsSection />
      <ApiTokensSection />
      <UploadsSection />
    </div>
  );
}
