/**
 * @parley/db — schema (also at `@parley/db/schema`), client factory (`@parley/db/client`), the one
 * database opener with its schema check (`openDatabase`), the one outage classifier with its retry
 * (`withDbRetry`), and the migrator.
 */
export * from './schema/index.js';
export { createDb, createPool, defaultDatabaseUrl, type Db, type Pool, type PoolOptions } from './client.js';
export { assertSchemaCurrent, ensureDatabase, migrateDatabase, migrationsFolder, schemaStatus, SchemaBehindError, type SchemaStatus } from './migrate.js';
export { DatabaseRefusedError, openDatabase, type Database, type OpenDatabaseOptions } from './open.js';
export { describeDbError, isDatabaseUnavailable } from './unavailable.js';
export { withDbRetry, type DbRetryOptions } from './retry.js';
