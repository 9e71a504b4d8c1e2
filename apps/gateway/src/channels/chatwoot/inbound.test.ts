import { describe, expect, test } from 'vitest';
import { ChatwootMessageEvent } from '@parley/contracts';
import type { InboxSettings } from './config.js';
import { UNSTORABLE_ANSWER, asksForPerson, classifyMessage, savedText } from './inbound.js';

const inbox: InboxSettings = {
  accountId: 1,
  inboxId: 1,
  tenantId: 't',
  agentId: null,
  baseUrl: 'https://x',
  apiToken: 'tok',
  webhookSecret: 's',
  inboxToken: null,
  answerStatuses: ['pending'],
  handoffNote: 'a person will answer',
  enabled: true,
  source: 'env',
};
const parse = (b: unknown) => ChatwootMessageEvent.parse(b);

// Minimal bodies: the full Chatwoot-shaped ones live in tests/support/fake-chatwoot.ts.
type W = { conversation: number; status?: string };
const contact = { id: 42, name: 'Ana', type: 'contact' };
const agent = { id: 3, name: 'Lee', type: 'user' };
const bot = { id: 7, name: 'Parley', type: 'agent_bot' };
const msg = (w: W, o: Record<string, unknown>) => ({
  event: 'message_created',
  id: 1,
  content: 'x',
  message_type: 'incoming',
  private: false,
  sender: contact,
  inbox: { id: 1 },
  account: { id: 1 },
  conversation: { id: w.conversation, status: w.status ?? 'pending' },
  ...o,
});
const bodies = {
  incoming: (w: W, content: string) => msg(w, { content }),
  outgoingFromBot: (w: W, content: string) => msg(w, { content, message_type: 'outgoing', sender: bot }),
  outgoingFromAgent: (w: W, content: string) => msg(w, { content, message_type: 'outgoing', sender: agent }),
  privateNote: (w: W, content: string) => msg(w, { content, message_type: 'outgoing', sender: agent, private: true }),
  messageUpdated: (w: W, content: string) => msg(w, { content, event: 'message_updated' }),
  attachmentOnly: (w: W, fileType: string) => msg(w, { content: null, attachments: [{ id: 9, file_type: fileType }] }),
};

describe('classifyMessage', () => {
  test('text no store can keep (U+0000, a lone surrogate) is answered directly, without a run, and saved as a placeholder', () => {
    for (const text of ['hola\u0000', '\u0000', 'a\uD800b', 'x\uDC00', 'quiero hablar con una persona\u0000']) {
      const m = parse(bodies.incoming({ conversation: 1 }, text));
      expect(classifyMessage(m, inbox)).toEqual({ act: 'direct', content: UNSTORABLE_ANSWER, handoff: false });
      expect(savedText(m)).toBe('[a message with characters that cannot be stored]');
    }
    expect(savedText(parse(bodies.attachmentOnly({ conversation: 1 }, 'im\u0000age')))).toBe('[a message with characters that cannot be stored]');
    expect(savedText(parse(bodies.incoming({ conversation: 1 }, ' ok 😀 ')))).toBe('ok 😀');
  });

  test('a contact message in a pending conversation runs; the rest is ignored', () => {
    expect(classifyMessage(parse(bodies.incoming({ conversation: 1 }, ' hi ')), inbox)).toEqual({ act: 'run', text: 'hi' });
    for (const b of [
      bodies.outgoingFromBot({ conversation: 1 }, 'x'),
      bodies.outgoingFromAgent({ conversation: 1 }, 'x'),
      bodies.privateNote({ conversation: 1 }, 'x'),
      bodies.messageUpdated({ conversation: 1 }, 'x'),
      bodies.incoming({ conversation: 1, status: 'open' }, 'x'),
    ]) {
      expect(classifyMessage(parse(b), inbox).act).toBe('ignore');
    }
  });

  test('an inbox configured to answer open conversations does', () => {
    expect(classifyMessage(parse(bodies.incoming({ conversation: 1, status: 'open' }, 'x')), { ...inbox, answerStatuses: ['pending', 'open'] }).act).toBe(
      'run',
    );
  });

  test('the integer message_type of older payloads is understood', () => {
    expect(classifyMessage(parse({ ...bodies.incoming({ conversation: 1 }, 'x'), message_type: 0 }), inbox).act).toBe('run');
    expect(classifyMessage(parse({ ...bodies.incoming({ conversation: 1 }, 'x'), message_type: 1 }), inbox).act).toBe('ignore');
  });

  test('attachments without text get a polite text answer naming what was sent', () => {
    const r = classifyMessage(parse(bodies.attachmentOnly({ conversation: 1 }, 'location')), inbox);
    expect(r).toMatchObject({ act: 'direct', handoff: false });
    expect(r.act === 'direct' && r.content).toContain('location');
  });
});

describe('asksForPerson', () => {
  test.each([
    'Can I talk to a human?',
    'I want to speak with a real person',
    'human please',
    'Operator!',
    'quiero hablar con una persona',
    'pásame con un agente',
  ])('%s → yes', (t) => expect(asksForPerson(t)).toBe(true));
  test.each(['Is your agent software any good?', 'How many people work there?', 'humanity is great', 'the operator field is empty'])('%s → no', (t) =>
    expect(asksForPerson(t)).toBe(false),
  );
});
