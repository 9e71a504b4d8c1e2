import type { ConversationStore } from '@parley/conversation-store';
import type { PromptSource } from './prompts.js';

/** Everything the domain functions use; built by wiring.ts for the service, and the same way by the tests' harness. */
export interface ConversationDeps {
  store: ConversationStore;
  prompts: PromptSource;
}
