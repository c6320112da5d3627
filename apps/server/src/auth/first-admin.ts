import { emailSchema, passwordSchema, personNameSchema, recordAudit, type AuthService } from '@chorus/api';
import type { Db } from '@chorus/db';
import type { Logger } from '../logger.ts';

/**
 * Unattended installs: with CHORUS_ADMIN_EMAIL/PASSWORD the first admin is created before
 * the server takes requests (nothing happens once an admin exists).
 */
export async function createAdminFromEnvironment(opts: {
  db: Db;
  auth: AuthService;
  bootstrap: { email: string; password: string; name: string } | null;
  logger: Logger;
}): Promise<void> {
  const { auth, logger } = opts;
  if (await auth.isSetUp()) return;
  if (opts.bootstrap) {
    const email = emailSchema.safeParse(opts.bootstrap.email);
    const password = passwordSchema.safeParse(opts.bootstrap.password);
    const name = personNameSchema.safeParse(opts.bootstrap.name);
    const problem = [email, password, name].find((r) => !r.success);
    if (problem && !problem.success) throw new Error(`CHORUS_ADMIN_EMAIL / CHORUS_ADMIN_PASSWORD / CHORUS_ADMIN_NAME: ${problem.error.issues[0]?.message}`);
    // No active admin, but a deactivated account may hold the address: say so instead of a database error.
    if (await opts.db.user.findUnique({ where: { email: email.data! } })) {
      throw new Error(`CHORUS_ADMIN_EMAIL: ${email.data!} already belongs to an account that is not an active admin (e.g. a deactivated one); set a different CHORUS_ADMIN_EMAIL to create a new admin.`);
    }
    const user = await auth.createFirstAdmin({ email: email.data!, password: password.data!, name: name.data! });
    if (user) {
      await recordAudit(opts.db, { actor: user, action: 'setup.admin_created', target: { type: 'user', id: user.id }, detail: { via: 'environment' }, ip: null });
      logger.info({ email: user.email }, 'created the first admin from CHORUS_ADMIN_EMAIL');
    }
  }
}

/** Otherwise, one log line carries a one-time link to the setup page (a restart prints a new one). */
export async function announceSetupLink(auth: AuthService, baseUrl: string, logger: Logger): Promise<void> {
  if (await auth.isSetUp()) return;
  const token = auth.issueSetupToken();
  logger.warn({ setupUrl: `${baseUrl}/#/setup?token=${token}` }, `Chorus has no admin yet. Open this one-time link to create one: ${baseUrl}/#/setup?token=${token}`);
}
