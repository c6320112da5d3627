export { openDb, providerOf, type Db } from './client.ts';
export { migrateDatabase } from './migrate.ts';
export { databaseProvider, resolveDatabaseUrl, shownDatabaseUrl, DEFAULT_DATABASE_URL, type DatabaseProvider } from './database-url.ts';
export { migratePostgres } from './postgres-migrate.ts';
export { gatedSqliteOf, openPostgresPool, type GatedSqlite, type PostgresPool, type PostgresPoolClient, type SqliteConnection, type SqliteStatement } from './raw-sql.ts';
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
