/**
 * @parley/db — schema (also at `@parley/db/schema`), client factory (`@parley/db/client`) and the
 * migration helpers every service needs at start.
 */
export * from './schema/index.js';
export { createDb, createPool, defaultDatabaseUrl, type Db, type Pool, type PoolOptions } from './client.js';
export { assertSchemaCurrent, ensureDatabase, migrateDatabase, migrationsFolder, redact, schemaStatus, type SchemaStatus } from './migrate.js';
