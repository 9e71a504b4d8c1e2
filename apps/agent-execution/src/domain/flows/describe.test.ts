import { INTERNAL_FIELD } from '@parley/contracts';
import { describe, expect, test } from 'vitest';
import { createFlowRegistry } from './index.js';

type Prop = { title?: string; description?: string; [INTERNAL_FIELD]?: boolean };

describe('what GET /flows shows for generated forms', () => {
  const flows = createFlowRegistry().describe();
  const props = (name: string) => (flows.find((f) => f.name === name)?.inputSchema as { properties: Record<string, Prop> }).properties;

  test('every field a person fills in has a title and a description; program-filled fields are marked internal', () => {
    for (const f of flows)
      for (const [key, p] of Object.entries(props(f.name))) {
        if (p[INTERNAL_FIELD]) continue;
        expect({ flow: f.name, key, title: typeof p.title, description: typeof p.description }).toEqual({
          flow: f.name,
          key,
          title: 'string',
          description: 'string',
        });
      }
    expect(props('chat')['messageId']?.[INTERNAL_FIELD]).toBe(true);
    expect(props('chat')['text']?.title).toBe('Message');
  });

  test('a flow says whether it reads a conversation and whether it needs one', () => {
    expect(flows.find((f) => f.name === 'summarize_conversation')).toMatchObject({ conversation: 'read', requiresConversation: true });
    expect(flows.find((f) => f.name === 'poem')).toMatchObject({ conversation: 'none', requiresConversation: false });
  });
});
