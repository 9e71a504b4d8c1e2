import { z } from 'zod';
import { defineTool, type ToolDef } from './define-tool.js';

export const currentTime = defineTool({
  name: 'current_time',
  description: 'Returns the current date and time, optionally in an IANA time zone such as Europe/Madrid.',
  args: z.object({ timezone: z.string().max(64).optional().describe('IANA time zone, default UTC') }),
  async run({ timezone }) {
    const now = new Date();
    const zone = timezone && isTimeZone(timezone) ? timezone : 'UTC';
    const local = new Intl.DateTimeFormat('en-GB', { timeZone: zone, dateStyle: 'full', timeStyle: 'long' }).format(now);
    return { iso: now.toISOString(), timezone: zone, local };
  },
});

export const searchKnowledge = defineTool({
  name: 'search_knowledge',
  description: "Searches the business's knowledge base (documents, FAQ, policies) and returns the most relevant passages.",
  args: z.object({ query: z.string().min(1).max(4_000).describe('what to look for'), topK: z.number().int().min(1).max(10).optional() }),
  async run({ query, topK }, ctx) {
    const reply = await ctx.bus.call('query.search', { query, topK: topK ?? 4 }, ctx.meta, { timeoutMs: ctx.timeoutMs, signal: ctx.signal });
    if (reply.hits.length === 0) return { hits: [], note: 'The knowledge base has nothing relevant to this question: say so plainly instead of guessing.' };
    // Numbered, so the answer can cite [n] and the operator can trace every claim to its document.
    return {
      hits: reply.hits.map((h, i) => ({
        ref: i + 1,
        title: h.title,
        source: h.source,
        // Where the passage is: the chat links a citation to it (#/knowledge/<documentId>?chunk=<n>).
        documentId: h.documentId,
        ...(h.ordinal !== undefined ? { chunk: h.ordinal } : {}),
        text: h.text.slice(0, 1_500),
        score: Math.round(h.score * 1000) / 1000,
      })),
      instructions: 'Answer only from these passages and cite each one you use as [ref] with its title.',
    };
  },
});

export const handoffToHuman = defineTool({
  name: 'handoff_to_human',
  description: 'Hands the conversation to a human operator when the user asks for a person or the assistant cannot help.',
  args: z.object({ reason: z.string().max(1_000).optional().describe('why a human is needed') }),
  async run({ reason }, ctx) {
    // The channel acts on it (Chatwoot: the conversation is opened for agents); the run's result carries it.
    ctx.note('handoff', { reason: reason ?? 'requested by the user', at: new Date().toISOString() });
    return { handedOff: true, message: 'A human operator will take over this conversation.' };
  },
});

export const closeConversation = defineTool({
  name: 'close_conversation',
  description: 'Closes the current conversation (operators only).',
  args: z.object({ reason: z.string().max(256).optional() }),
  roles: ['operator', 'admin'],
  async run({ reason }, ctx) {
    if (!ctx.conversationId) return { closed: false, message: 'this run has no conversation' };
    await ctx.bus.call(
      'conversation.session_closed',
      reason === undefined ? { conversationId: ctx.conversationId } : { conversationId: ctx.conversationId, reason },
      ctx.meta,
      { timeoutMs: ctx.timeoutMs, signal: ctx.signal },
    );
    return { closed: true };
  },
});

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/** Every tool an agent may enable, by name. */
export const builtinTools: readonly ToolDef[] = [currentTime, searchKnowledge, handoffToHuman, closeConversation] as readonly ToolDef[];
export const DEFAULT_AGENT_TOOLS = ['search_knowledge', 'handoff_to_human', 'current_time', 'close_conversation'] as const;
