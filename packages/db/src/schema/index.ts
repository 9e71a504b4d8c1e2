/**
 * @parley/db/schema — tables only. Importing this never opens a connection (that is `@parley/db/client`).
 */
export * from './tenants.js';
export * from './conversations.js';
export * from './agent-runs.js';
export * from './knowledge.js';
export * from './chatwoot.js';
