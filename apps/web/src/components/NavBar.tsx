import type { AuthUser } from '@chorus/api/schemas';
import { canCreateJobs, homeHref, isAdmin } from '../auth/permissions.ts';
import type { Route } from '../router/hashRouter.ts';
import { hrefs } from '../router/hashRouter.ts';
import { RoleBadge } from './RoleBadge.tsx';
import { SignOutButton } from './SignOutButton.tsx';

interface NavLink {
  page: Route['page'];
  href: string;
  label: string;
  testId: string;
}

/** The pages this person's role may use, in menu order. */
function linksFor(user: AuthUser): NavLink[] {
  const links: NavLink[] = [];
  if (canCreateJobs(user)) links.push({ page: 'new', href: hrefs.newJob(), label: 'New job', testId: 'nav-new' });
  links.push({ page: 'history', href: hrefs.history(), label: 'History', testId: 'nav-history' });
  if (isAdmin(user)) {
    links.push(
      { page: 'members', href: hrefs.members(), label: 'Members', testId: 'nav-members' },
      { page: 'failures', href: hrefs.failures(), label: 'Failed runs', testId: 'nav-failures' },
      { page: 'workers', href: hrefs.workers(), label: 'Workers', testId: 'nav-workers' },
      { page: 'audit', href: hrefs.audit(), label: 'Audit', testId: 'nav-audit' },
    );
  }
  return links;
}

/** Brand, the pages the role may use, and who is signed in (with Sign out). Signed out: the brand only. */
export function NavBar({ route, user }: { route: Route; user: AuthUser | null }) {
  return (
    <header className="navbar">
      <a className="brand" href={user ? homeHref(user) : hrefs.login()}>
        <img src="/favicon.svg" alt="" width={24} height={24} />
        Chorus
      </a>
      {user ? (
        <>
          <nav aria-label="Main">
            {linksFor(user).map((link) => (
              <a key={link.page} href={link.href} aria-current={route.page === link.page ? 'page' : undefined} data-testid={link.testId}>
                {link.label}
              </a>
            ))}
          </nav>
          <div className="navbar-user" data-testid="signed-in-user" data-role={user.role}>
            <a href={hrefs.account()} aria-current={route.page === 'account' ? 'page' : undefined} title="Your account" data-testid="nav-account">
              {user.name}
            </a>
            <RoleBadge role={user.role} />
            <SignOutButton />
          </div>
        </>
      ) : null}
    </header>
  );
}
