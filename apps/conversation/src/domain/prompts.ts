import { and, eq } from 'drizzle-orm';
import type { Db } from '@parley/db/client';
import { agents } from '@parley/db/schema';
import { countMessageTokens } from '@parley/llm';

/** Used when the tenant has no agent row (yet): a neutral assistant, never an empty system prompt. */
export const DEFAULT_SYSTEM_PROMPT =
  'You are a helpful, concise assistant. Answer in the language of the user. If you do not know something, say so instead of guessing.';

export interface SystemPrompt {
  content: string;
  tokenCount: number;
}

/**
 * The system prompt of a tenant's agent (or its default agent), cached briefly: get_context runs on
 * every turn and must not cost a database round trip each time. An agent edit shows within `cacheMs`.
 */
export class PromptSource {
  private readonly cache = new Map<string, { at: number; prompt: Promise<SystemPrompt> }>();

  constructor(
    private readonly db: Db,
    private readonly opts: { defaultPrompt?: string | undefined; cacheMs: number },
  ) {}

  get(tenantId: string, agentId: string | null, model?: string): Promise<SystemPrompt> {
    const key = `${tenantId}\u0000${agentId ?? ''}\u0000${model ?? ''}`;
    const hit = this.cache.get(key);
    if (hit && Date.now() - hit.at < this.opts.cacheMs) return hit.prompt;
    const prompt = this.load(tenantId, agentId, model);
    // A failed load is not cached: the next call retries the database.
    prompt.catch(() => this.cache.delete(key));
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(key, { at: Date.now(), prompt });
    return prompt;
  }

  private async load(tenantId: string, agentId: string | null, model?: string): Promise<SystemPrompt> {
    const cols = { systemPrompt: agents.systemPrompt, model: agents.model };
    let row = agentId ? (await this.db.select(cols).from(agents).where(and(eq(agents.tenantId, tenantId), eq(agents.id, agentId))).limit(1))[0] : undefined;
    row ??= (await this.db.select(cols).from(agents).where(and(eq(agents.tenantId, tenantId), eq(agents.isDefault, true))).limit(1))[0];
    const content = row?.systemPrompt.trim() ? row.systemPrompt : (this.opts.defaultPrompt ?? DEFAULT_SYSTEM_PROMPT);
    return { content, tokenCount: countMessageTokens({ role: 'system', content }, model ?? row?.model) };
  }
}
