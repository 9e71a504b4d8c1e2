import { readArchivedMessages, type ConversationStore, type HotMeta, type StoredMessage } from '@parley/conversation-store';
import type { NewestFirst } from './context-window.js';

const HOT_CHUNK = 128;
const ARCHIVE_CHUNK = 200;

/**
 * A conversation's messages newest first: the hot tail already read, then older hot messages,
 * then (for a conversation re-opened after migration, or not hot at all) the archive.
 */
export function messagesNewestFirst(
  store: ConversationStore,
  conversationId: string,
  hot: HotMeta | null,
  tail: StoredMessage[],
  lastSeq: number,
): NewestFirst {
  let buffer = tail.slice().reverse();
  // The next seq to fetch, going down.
  let nextSeq = (tail[0]?.seq ?? lastSeq + 1) - 1;
  return {
    async next() {
      if (buffer.length === 0 && nextSeq >= 1) {
        if (hot && nextSeq > hot.base) {
          const from = Math.max(hot.base + 1, nextSeq - HOT_CHUNK + 1);
          buffer = (await store.hot.readRange(hot, from, nextSeq)).reverse();
          nextSeq = from - 1;
        } else {
          buffer = (await readArchivedMessages(store.db, conversationId, { beforeSeq: nextSeq + 1, limit: ARCHIVE_CHUNK })).reverse();
          nextSeq = buffer.length === 0 ? 0 : (buffer[buffer.length - 1] as StoredMessage).seq - 1;
        }
      }
      return buffer.shift() ?? null;
    },
  };
}
