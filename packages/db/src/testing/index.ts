export { startPostgresIfDown, createTestPostgresDatabase, type TestPostgresDatabase } from './postgres.ts';
export { testDatabaseProvider } from './provider.ts';
export { copyMigratedSqlite } from './sqlite.ts';
