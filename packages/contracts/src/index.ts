/**
 * @parley/contracts — the one place where every action, reply, event and WS frame is defined.
 * A leaf package: zod is its only dependency, and it imports nothing else of ours.
 */
export * from './errors.js';
export * from './envelope.js';
export * from './catalog-kit.js';
export * from './common.js';
export * from './ids.js';
export * from './text.js';
export * from './lease.js';
export * from './conversation.js';
export * from './agent.js';
export * from './agent-tools.js';
export * from './run-event-log.js';
export * from './run-ids.js';
export * from './migration.js';
export * from './query.js';
export * from './channel.js';
export * from './chatwoot.js';
export * from './handoff.js';
export * from './ws.js';
export * from './catalog.js';
