/**
 * What the bot does with one verified webhook: nothing (most deliveries), start a run, or answer
 * directly. Only a contact's public incoming message, in a conversation the bot owns, is answered:
 * never the bot's own outgoing messages, an agent's, or a private note, so the bot cannot loop.
 */
import { isStorableText, type ChatwootConversationEvent, type ChatwootMessageEvent } from '@parley/contracts';
import type { InboxSettings } from './config.js';

export type Inbound =
  { act: 'ignore'; why: string } | { act: 'resume' } | { act: 'release' } | { act: 'run'; text: string } | { act: 'direct'; content: string; handoff: boolean };

export function classifyMessage(m: ChatwootMessageEvent, inbox: InboxSettings): Inbound {
  if (m.event !== 'message_created') return { act: 'ignore', why: m.event };
  if (m.message_type !== 'incoming') return { act: 'ignore', why: `message_type ${m.message_type}` };
  if (m.private) return { act: 'ignore', why: 'private note' };
  if (m.sender?.type !== 'contact') return { act: 'ignore', why: `sender ${m.sender?.type ?? 'missing'}` };
  if (!inbox.answerStatuses.includes(m.conversation.status)) return { act: 'ignore', why: `conversation ${m.conversation.status}` };
  const text = (m.content ?? '').trim();
  // Text no store can keep (U+0000, a lone surrogate) would crash every run started for it.
  if (text && !isStorableText(text)) return { act: 'direct', content: UNSTORABLE_ANSWER, handoff: false };
  if (text && asksForPerson(text)) return { act: 'direct', content: inbox.handoffNote, handoff: true };
  if (text) return { act: 'run', text };
  return { act: 'direct', content: cannotRead(m), handoff: false };
}

export function classifyConversation(c: ChatwootConversationEvent, inbox: InboxSettings): Inbound {
  // An agent hands the conversation back by setting it to a status the bot answers in.
  if (inbox.answerStatuses.includes(c.status)) return { act: 'resume' };
  // Taken by a human (or resolved): messages still queued are theirs, not the bot's.
  if (c.event === 'conversation_opened' || c.event === 'conversation_status_changed' || c.event === 'conversation_resolved') return { act: 'release' };
  return { act: 'ignore', why: `${c.event} ${c.status}` };
}

export const UNSTORABLE_ANSWER = 'Sorry, your message contains characters I cannot read. Please send it again as plain text and I will gladly help.';

/** What the gateway saves as the contact's side of a direct answer: their text, unless no store can keep it. */
export function savedText(m: ChatwootMessageEvent): string {
  const text = (m.content ?? '').trim() || `[${m.attachments?.[0]?.file_type ?? 'attachment'}]`;
  return isStorableText(text) ? text : '[a message with characters that cannot be stored]';
}

const KINDS: Record<string, string> = {
  image: 'image',
  audio: 'voice message',
  video: 'video',
  file: 'file',
  location: 'location',
  contact: 'contact card',
  fallback: 'attachment',
};

function cannotRead(m: ChatwootMessageEvent): string {
  const kind = KINDS[m.attachments?.[0]?.file_type ?? ''] ?? 'message';
  return `Sorry, I can only read text, so I could not open your ${kind}. Please type your question and I will gladly help.`;
}

// Explicit requests only ("talk to a human", "quiero hablar con una persona"): a passing mention
// of "agent" in a question about the product must not hand the conversation over.
const PERSON_EN = /\b(talk|speak|chat|connect|transfer|put)\b[^.?!]{0,30}\b(human|person|people|agent|operator|representative|someone real|real person)\b/i;
const PERSON_EN_SHORT = /^\s*(a\s+)?(human|real person|live agent|operator|representative)( please)?[.!]*\s*$/i;
const PERSON_ES = /\b(hablar|comunicar|pasar|p[áa]same|quiero)\b[^.?!]{0,30}\b(humano|persona|agente|operador|asesor)\b/i;

export function asksForPerson(text: string): boolean {
  return PERSON_EN.test(text) || PERSON_EN_SHORT.test(text) || PERSON_ES.test(text);
}
