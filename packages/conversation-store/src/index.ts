/**
 * @parley/conversation-store — hot conversations in Redis, the PostgreSQL archive, and the steps
 * migration takes between them. Used by apps/conversation and apps/migration.
 */
export * from './types.js';
export { conversationKeys, migrationDueKey, sessionKey, tenantIndexKey, userIndexKey, type ConversationKeys } from './keys.js';
export { decodeFacts, titleFrom, type MessageFacts } from './codec.js';
export { HotStore, DEFAULT_IDLE_MS, DEFAULT_TTL_MS, type AppendOptions, type AppendOutcome, type HotInit, type HotStoreOptions } from './hot-store.js';
export { ConversationStore, ConversationNotFoundError, ConversationBusyError, ConversationFencedError, type ConversationStoreOptions } from './store.js';
export {
  archivedMessageIds,
  closeArchived,
  copyToArchive,
  findArchivedBySession,
  getArchivedConversation,
  listArchived,
  readAllArchivedMessages,
  readArchivedMessages,
  toRecord,
  type ArchiveListFilter,
} from './archive.js';
export { migrateConversation, type MigrateOutcome } from './migration.js';
export { copyManyToArchive } from './archive-batch.js';
export { matchHotMessages, searchArchived, type MessageMatch } from './search.js';
