import type { ConversationStore } from '@parley/conversation-store';

/** Everything the domain functions use; built by wiring.ts for the service, and the same way by the tests' harness. */
export interface ConversationDeps {
  store: ConversationStore;
}
