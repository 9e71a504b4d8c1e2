/**
 * A fake Chatwoot for the channel tests: a real HTTP server that answers the three API calls the
 * gateway makes the way Chatwoot does (and records them), plus webhook bodies shaped like the ones
 * Chatwoot sends (DESIGN §5) and a signer for them.
 */
import { createHmac, randomUUID } from 'node:crypto';
import http from 'node:http';

export interface Recorded {
  method: string;
  path: string;
  kind: 'message' | 'typing' | 'status' | 'other';
  conversationId: number;
  token: string | undefined;
  body: Record<string, unknown>;
  status: number;
}

export interface FakeChatwoot {
  url: string;
  requests: Recorded[];
  /** Contents posted to a conversation, in the order Chatwoot stored them. */
  posted(conversationId: number): string[];
  status(conversationId: number): string;
  /** The next requests of this kind get these statuses (then normal answers); `body` for the failures, a 2xx answers normally with that status. */
  script(kind: Recorded['kind'], statuses: number[], body?: string): void;
  close(): Promise<void>;
}

export async function startFakeChatwoot(apiToken: string): Promise<FakeChatwoot> {
  const requests: Recorded[] = [];
  const scripts = new Map<string, Array<{ status: number; body: string }>>();
  const statuses = new Map<number, string>();
  let nextId = 1000;
  const server = http.createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
    req.on('end', () => {
      const path = req.url ?? '';
      const m = /^\/api\/v1\/accounts\/(\d+)\/conversations\/(\d+)\/(messages|toggle_typing_status|toggle_status)$/.exec(path);
      const kind: Recorded['kind'] = !m ? 'other' : m[3] === 'messages' ? 'message' : m[3] === 'toggle_status' ? 'status' : 'typing';
      const conversationId = Number(m?.[2] ?? 0);
      let body: Record<string, unknown> = {};
      try {
        body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
      } catch {
        /* recorded as empty */
      }
      const token = req.headers['api_access_token'] as string | undefined;
      const answer = (status: number, payload: unknown) => {
        requests.push({ method: req.method ?? '', path, kind, conversationId, token, body, status });
        // Like Rack::Attack in front of Chatwoot: a 429 says when to come back.
        res
          .writeHead(status, { 'content-type': 'application/json', ...(status === 429 ? { 'retry-after': '1' } : {}) })
          .end(typeof payload === 'string' ? payload : JSON.stringify(payload));
      };
      const scripted = scripts.get(kind)?.shift();
      if (scripted && scripted.status >= 300) return answer(scripted.status, scripted.body);
      const ok = scripted?.status ?? 200;
      if (token !== apiToken) return answer(401, { error: 'You need to sign in or sign up before continuing.' });
      if (!m || req.method !== 'POST') return answer(404, { error: 'Resource could not be found' });
      if (kind === 'message') {
        const id = nextId++;
        return answer(ok, {
          id,
          content: body['content'],
          inbox_id: 1,
          conversation_id: conversationId,
          message_type: 1,
          content_type: 'text',
          private: false,
          created_at: Math.floor(Date.now() / 1000),
          source_id: null,
          sender: { id: 7, name: 'Parley', type: 'agent_bot' },
        });
      }
      if (kind === 'status') {
        statuses.set(conversationId, String(body['status']));
        return answer(200, { meta: {}, payload: { success: true, conversation_id: conversationId, current_status: body['status'] } });
      }
      return answer(200, {});
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as { port: number }).port;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    posted: (id) => requests.filter((r) => r.kind === 'message' && r.conversationId === id && r.status < 300).map((r) => String(r.body['content'])),
    status: (id) => statuses.get(id) ?? 'pending',
    script(kind, list, body = '{"error":"scripted"}') {
      scripts.set(kind, [...(scripts.get(kind) ?? []), ...list.map((status) => ({ status, body }))]);
    },
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

// ---- webhook bodies -------------------------------------------------------------------------

export interface Where {
  account?: number;
  inbox?: number;
  conversation: number;
  status?: 'open' | 'pending' | 'resolved' | 'snoozed';
}

let messageIds = 5000;
export const nextMessageId = () => ++messageIds;

const contact = {
  id: 42,
  name: 'Ana Souza',
  type: 'contact',
  phone_number: '+5511999990000',
  identifier: null,
  thumbnail: '',
  avatar: '',
  additional_attributes: {},
  custom_attributes: {},
};
const agentUser = {
  id: 3,
  name: 'Lee (support)',
  type: 'user',
  email: 'lee@example.com',
  available_name: 'Lee',
  avatar_url: '',
  availability_status: 'online',
};
const botSender = { id: 7, name: 'Parley', type: 'agent_bot', avatar_url: '' };

function conversation(w: Where, lastMessage: Record<string, unknown>) {
  return {
    id: w.conversation,
    status: w.status ?? 'pending',
    inbox_id: w.inbox ?? 1,
    channel: 'Channel::Whatsapp',
    can_reply: true,
    additional_attributes: {},
    custom_attributes: {},
    agent_last_seen_at: 0,
    contact_last_seen_at: 0,
    timestamp: Math.floor(Date.now() / 1000),
    unread_count: 1,
    contact_inbox: { id: 9, contact_id: contact.id, inbox_id: w.inbox ?? 1, source_id: '5511999990000', hmac_verified: false, pubsub_token: 'x' },
    meta: { sender: contact, assignee: null, team: null, hmac_verified: false },
    labels: [],
    // Inside conversation.messages[] Chatwoot uses the enum integer and unix seconds.
    messages: [
      {
        ...lastMessage,
        account_id: w.account ?? 1,
        inbox_id: w.inbox ?? 1,
        conversation_id: w.conversation,
        message_type: lastMessage['message_type'] === 'incoming' ? 0 : lastMessage['message_type'] === 'outgoing' ? 1 : 2,
        created_at: Math.floor(Date.now() / 1000),
      },
    ],
  };
}

function message(
  w: Where,
  o: {
    id?: number;
    content: string | null;
    type: 'incoming' | 'outgoing' | 'activity';
    sender: Record<string, unknown>;
    private?: boolean;
    event?: string;
    attachments?: unknown[];
  },
) {
  const base: Record<string, unknown> = {
    id: o.id ?? nextMessageId(),
    content: o.content,
    content_type: 'text',
    content_attributes: {},
    message_type: o.type,
    private: o.private ?? false,
    created_at: new Date().toISOString(),
    source_id: o.type === 'incoming' ? `wamid.${randomUUID()}` : null,
    additional_attributes: {},
    sender: o.sender,
    inbox: { id: w.inbox ?? 1, name: 'WhatsApp Sales' },
    account: { id: w.account ?? 1, name: 'Acme' },
  };
  if (o.attachments) base['attachments'] = o.attachments;
  return { event: o.event ?? 'message_created', ...base, conversation: conversation(w, base) };
}

export const bodies = {
  incoming: (w: Where, content: string, id?: number) => message(w, { content, type: 'incoming', sender: contact, ...(id ? { id } : {}) }),
  outgoingFromBot: (w: Where, content: string) => message(w, { content, type: 'outgoing', sender: botSender }),
  outgoingFromAgent: (w: Where, content: string) => message(w, { content, type: 'outgoing', sender: agentUser }),
  privateNote: (w: Where, content: string) => message(w, { content, type: 'outgoing', sender: agentUser, private: true }),
  messageUpdated: (w: Where, content: string) => message(w, { content, type: 'incoming', sender: contact, event: 'message_updated' }),
  attachmentOnly: (w: Where, fileType = 'image') =>
    message(w, {
      content: null,
      type: 'incoming',
      sender: contact,
      attachments: [
        {
          id: 77,
          message_id: 0,
          file_type: fileType,
          account_id: w.account ?? 1,
          extension: null,
          data_url: 'https://chatwoot.example/rails/active_storage/x.jpg',
          thumb_url: '',
          file_size: 48213,
        },
      ],
    }),
  // Conversation events are the conversation itself: no top-level account (its messages carry account_id).
  conversationOpen: (w: Where) => ({
    event: 'conversation_status_changed',
    ...conversation({ ...w, status: 'open' }, { id: 1, content: 'x', message_type: 'incoming' }),
    changed_attributes: [{ status: { previous_value: 'pending', current_value: 'open' } }],
  }),
  conversationPending: (w: Where) => ({
    event: 'conversation_status_changed',
    ...conversation({ ...w, status: 'pending' }, { id: 1, content: 'x', message_type: 'incoming' }),
    changed_attributes: [{ status: { previous_value: 'open', current_value: 'pending' } }],
  }),
};

// ---- delivering them ------------------------------------------------------------------------

export interface DeliverOpts {
  secret?: string;
  /** Unix seconds; default now. */
  timestamp?: number;
  delivery?: string;
  signature?: string;
  /** Change the raw body after signing. */
  tamper?: (raw: Buffer) => Buffer;
  query?: string;
}

export function sign(secret: string, timestamp: number, raw: Buffer | string): string {
  return `sha256=${createHmac('sha256', secret).update(`${timestamp}.`).update(raw).digest('hex')}`;
}

export async function deliver(gatewayUrl: string, body: unknown, o: DeliverOpts = {}): Promise<{ status: number; json: Record<string, unknown> }> {
  let raw: Buffer = Buffer.from(JSON.stringify(body));
  const ts = o.timestamp ?? Math.floor(Date.now() / 1000);
  const headers: Record<string, string> = { 'content-type': 'application/json', 'x-chatwoot-delivery': o.delivery ?? randomUUID() };
  if (o.secret) {
    headers['x-chatwoot-timestamp'] = String(ts);
    headers['x-chatwoot-signature'] = o.signature ?? sign(o.secret, ts, raw);
  }
  if (o.tamper) raw = o.tamper(raw);
  const res = await fetch(`${gatewayUrl}/webhooks/chatwoot${o.query ?? ''}`, { method: 'POST', headers, body: raw });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}
