export { openDb, type Db } from './client.ts';
export { migrateDatabase } from './migrate.ts';
export { resolveDatabaseUrl, DEFAULT_DATABASE_URL } from './database-url.ts';
export { Prisma } from './generated/prisma/client.ts';
export type {
  ApiToken,
  AuditEntry,
  FailureGroup,
  Invite,
  Job,
  JobEvent as JobEventRow,
  Session,
  Setting,
  Upload,
  User,
} from './generated/prisma/client.ts';
