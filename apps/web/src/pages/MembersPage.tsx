import { InviteForm } from './members/InviteForm.tsx';
import { InvitesTable } from './members/InvitesTable.tsx';
import { MembersTable } from './members/MembersTable.tsx';
import { SettingsForm } from './members/SettingsForm.tsx';

/** The admin's team page: people and roles, invites, and the workspace limits. */
export function MembersPage() {
  return (
    <div className="page members-page">
      <div className="page-head">
        <h1>Members</h1>
      </div>
      <MembersTable />
      <InviteForm />
      <InvitesTable />
      <SettingsForm />
    </div>
  );
}
