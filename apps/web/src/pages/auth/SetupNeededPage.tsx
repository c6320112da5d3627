import { AuthCard } from './AuthCard.tsx';

/** Before the first admin exists, and the page was opened without the setup link. */
export function SetupNeededPage() {
  return (
    <AuthCard title="Chorus is not set up yet" testId="setup-needed">
      <p>
        The first admin is created through a one-time link the server printed in its log when it started (a line containing{' '}
        <code>/#/setup?token=</code>). Open that link to continue; a restart prints a new one.
      </p>
      <p className="muted">
        For unattended installs, set <code>CHORUS_ADMIN_EMAIL</code> and <code>CHORUS_ADMIN_PASSWORD</code> and restart the server instead.
      </p>
    </AuthCard>
  );
}
