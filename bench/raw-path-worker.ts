/**
 * The floor of bench:gateway: the chat path's hops with nothing of the platform on them. Three roles,
 * each its own process like the services they stand in for, talking through Redis as the platform
 * does (and to the same dev model server over HTTP):
 *
 *   gateway       WebSocket frames in; one Redis round trip (the message claim); XADD to the agent's
 *                 stream; run events popped from its callback list (BLMPOP) and written to the socket.
 *   agent         XREADGROUP; the run's PostgreSQL insert and its conversation lock beside an XADD to
 *                 the conversation's stream; its reply popped from its own callback list; a streamed
 *                 completion on node:http (its usage asked for, as the platform asks); the first token
 *                 pushed to the gateway at once, then one event per 25 ms token window (the platform's
 *                 default); the answer saved (XADD), the row finished, the lock dropped, XACK.
 *   conversation  XREADGROUP; the user message appended and the whole conversation read in one
 *                 round trip; the reply pushed to the agent's list.
 *
 * JSON.parse and JSON.stringify only: no envelope schema, no LangGraph, no SDK, no logger, no metrics.
 * What the platform's first token costs beyond this is what its code adds; this is what the host and
 * the hops alone cost. Usage: raw-path-worker.ts <gateway|agent|conversation> <prefix>.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { WebSocketServer, type WebSocket } from 'ws';
// The message id convention only (a template string per run); no schema of the platform is used here.
import { runAnswerMessageId } from '@parley/contracts';

const [role, prefix = 'bench:raw'] = process.argv.slice(2);
// agent-execution's RUN_TOKEN_WINDOW_MS default: the floor batches a stream's tokens as the platform does.
const TOKEN_WINDOW_MS = Number(process.env.RAW_TOKEN_WINDOW_MS ?? 25);
// The what-if knob of the latency analysis (0 in every row the bench reports): this many ms of CPU added per run to
// the agent, half before its model request and half after its answer, in 0.25 ms slices that each give the event
// loop back, as the platform's own per-run work is spread over many callbacks.
const EXTRA_CPU_MS = Number(process.env.RAW_AGENT_EXTRA_CPU_MS ?? 0);
const burn = async (ms: number) => {
  for (let left = ms; left > 0; left -= 0.25) {
    const until = performance.now() + Math.min(0.25, left);
    while (performance.now() < until);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
};
const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const key = (name: string) => `${prefix}:${name}`;

type Entries = Array<[string, Array<[string, string[]]>]> | null;

/** XREADGROUP forever on one stream, handing each entry's `a` field to `onEntry` without waiting for it. */
async function consume(stream: string, onEntry: (id: string, body: string) => void): Promise<void> {
  const read = new Redis(redisUrl);
  await read.xgroup('CREATE', stream, 'g', '0', 'MKSTREAM').catch(() => {
    /* BUSYGROUP: the group exists already */
  });
  for (;;) {
    const res = (await read.xreadgroup('GROUP', 'g', 'c', 'COUNT', 64, 'BLOCK', 1000, 'STREAMS', stream, '>')) as unknown as Entries;
    for (const [id, fields] of res?.[0]?.[1] ?? []) onEntry(id, fields[1] as string);
  }
}

/** One blocking connection popping a callback list in batches (as the bus's callback queue does). */
async function popLoop(list: string, onMessage: (raw: string) => void): Promise<void> {
  const conn = new Redis(redisUrl);
  for (;;) {
    const res = (await conn.call('BLMPOP', 1, 1, list, 'LEFT', 'COUNT', 1000)) as [string, string[]] | null;
    for (const raw of res?.[1] ?? []) onMessage(raw);
  }
}

async function gateway(): Promise<void> {
  const cmd = new Redis(redisUrl, { enableAutoPipelining: true });
  const callbacks = key('cb:gateway');
  const sockets = new Map<string, WebSocket>();
  const wss = new WebSocketServer({ port: 0, host: '127.0.0.1' });
  wss.on('connection', (ws) => {
    const conversationId = randomUUID();
    const user = { id: `u-${randomUUID()}`, tenantId: 'bench', roles: [] };
    ws.send(
      JSON.stringify({
        type: 'welcome',
        sessionId: randomUUID(),
        user,
        conversationId,
        agent: { id: 'default', name: 'raw' },
        limits: { maxFrameBytes: 16384, maxTextChars: 8000, messagesPerMinute: 1000000 },
      }),
    );
    ws.send(JSON.stringify({ type: 'history', conversationId, messages: [], hasMore: false }));
    ws.on('message', (data) => {
      const f = JSON.parse(String(data)) as { type: string; id: string; text: string };
      if (f.type !== 'chat.message') return;
      const runId = randomUUID();
      // The message claim: one round trip before the run starts, as the real gateway's.
      void cmd.set(key(`claim:${f.id}`), runId, 'PX', 60_000, 'NX').then(() => {
        ws.send(JSON.stringify({ type: 'chat.accepted', id: f.id, runId, conversationId }));
        sockets.set(runId, ws);
        void cmd.xadd(key('agent'), '*', 'a', JSON.stringify({ runId, conversationId, text: f.text, replyTo: callbacks }));
      });
    });
  });
  void popLoop(callbacks, (raw) => {
    const e = JSON.parse(raw) as { runId: string; type: string };
    const ws = sockets.get(e.runId);
    if (!ws) return;
    if (e.type === 'agent.message') sockets.delete(e.runId);
    ws.send(raw);
  });
  await new Promise((r) => wss.once('listening', r));
  console.log(`raw gateway listening on ${(wss.address() as { port: number }).port}`);
}

async function agent(): Promise<void> {
  const cmd = new Redis(redisUrl, { enableAutoPipelining: true });
  const db = new pg.Pool({ connectionString: process.env.DATABASE_URL, max: 10 });
  await db.query(
    'create table if not exists raw_runs (id uuid primary key, conversation_id uuid not null, status text not null, input jsonb not null, output jsonb, created_at timestamptz not null default now())',
  );
  const modelUrl = new URL(`${process.env.MODEL_BASE_URL}/chat/completions`);
  const keepAlive = new http.Agent({ keepAlive: true });
  const callbacks = key('cb:agent');
  const waiting = new Map<string, (messages: unknown[]) => void>();
  void popLoop(callbacks, (raw) => {
    const r = JSON.parse(raw) as { runId: string; messages: unknown[] };
    waiting.get(r.runId)?.(r.messages);
    waiting.delete(r.runId);
  });

  /**
   * A streamed completion; `onToken` gets each content delta as it is parsed. Resolves with the text and the usage
   * of its trailing chunk: the floor asks the model for what the platform asks (a run's record keeps its usage).
   */
  type Usage = { prompt_tokens: number; completion_tokens: number; total_tokens: number };
  const complete = (messages: unknown[], onToken: (delta: string) => void) =>
    new Promise<{ text: string; usage: Usage | undefined }>((resolve, reject) => {
      const body = JSON.stringify({ model: 'parley-dev', stream: true, stream_options: { include_usage: true }, messages });
      const req = http.request(
        modelUrl,
        { method: 'POST', agent: keepAlive, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } },
        (res) => {
          let buffered = '';
          let text = '';
          let usage: Usage | undefined;
          res.setEncoding('utf8');
          res.on('data', (chunk: string) => {
            buffered += chunk;
            let end: number;
            while ((end = buffered.indexOf('\n\n')) >= 0) {
              const event = buffered.slice(0, end);
              buffered = buffered.slice(end + 2);
              if (!event.startsWith('data: ') || event === 'data: [DONE]') continue;
              const chunk = JSON.parse(event.slice(6)) as { choices: Array<{ delta?: { content?: string } }>; usage?: Usage | null };
              usage = chunk.usage ?? usage;
              const delta = chunk.choices[0]?.delta?.content;
              if (delta) {
                text += delta;
                onToken(delta);
              }
            }
          });
          res.on('end', () => resolve({ text, usage }));
          res.on('error', reject);
        },
      );
      req.on('error', reject);
      req.end(body);
    });

  void consume(key('agent'), (entryId, body) => {
    void (async () => {
      const run = JSON.parse(body) as { runId: string; conversationId: string; text: string; replyTo: string };
      if (EXTRA_CPU_MS) await burn(EXTRA_CPU_MS / 2);
      const context = new Promise<unknown[]>((resolve) => waiting.set(run.runId, resolve));
      const [, , messages] = await Promise.all([
        db.query('insert into raw_runs (id, conversation_id, status, input) values ($1, $2, $3, $4)', [
          run.runId,
          run.conversationId,
          'RUNNING',
          { text: run.text },
        ]),
        cmd.set(key(`lock:${run.conversationId}`), run.runId, 'PX', 30_000, 'NX'),
        (cmd.xadd(
          key('conversation'),
          '*',
          'a',
          JSON.stringify({ type: 'begin_turn', runId: run.runId, conversationId: run.conversationId, text: run.text, replyTo: callbacks }),
        ),
        context),
      ]);
      let seq = 0;
      let held = '';
      let window: NodeJS.Timeout | null = null;
      const pushToken = (delta: string) => void cmd.rpush(run.replyTo, JSON.stringify({ type: 'agent.token', runId: run.runId, seq: ++seq, delta }));
      // As the platform's token window (agent-execution's RunEvents): a token out at once, then what
      // arrives within TOKEN_WINDOW_MS joined into one event per window, so a steady stream stays paced.
      const release = () => {
        window = null;
        if (!held) return;
        pushToken(held);
        held = '';
        window = setTimeout(release, TOKEN_WINDOW_MS);
      };
      const { text, usage } = await complete([{ role: 'system', content: 'You are a helpful assistant.' }, ...messages], (delta) => {
        if (window) {
          held += delta;
          return;
        }
        pushToken(delta);
        window = setTimeout(release, TOKEN_WINDOW_MS);
      });
      if (window) clearTimeout(window);
      if (held) pushToken(held);
      if (EXTRA_CPU_MS) await burn(EXTRA_CPU_MS / 2);
      await cmd.xadd(key('conversation'), '*', 'a', JSON.stringify({ type: 'save', conversationId: run.conversationId, role: 'assistant', text }));
      await db.query('update raw_runs set status = $2, output = $3 where id = $1', [run.runId, 'SUCCEEDED', { text }]);
      await cmd.rpush(
        run.replyTo,
        JSON.stringify({
          type: 'agent.message',
          runId: run.runId,
          seq: ++seq,
          messageId: runAnswerMessageId(run.runId),
          text,
          usage: { promptTokens: usage?.prompt_tokens ?? 0, completionTokens: usage?.completion_tokens ?? 0, totalTokens: usage?.total_tokens ?? 0 },
        }),
      );
      await Promise.all([cmd.del(key(`lock:${run.conversationId}`)), cmd.xack(key('agent'), 'g', entryId)]);
    })().catch((err: unknown) => console.error('raw agent run failed', err));
  });
  console.log('raw agent ready');
}

async function conversation(): Promise<void> {
  const cmd = new Redis(redisUrl, { enableAutoPipelining: true });
  void consume(key('conversation'), (entryId, body) => {
    const m = JSON.parse(body) as { type: string; runId?: string; conversationId: string; text: string; role?: string; replyTo?: string };
    const list = key(`messages:${m.conversationId}`);
    const message = JSON.stringify({ role: m.role ?? 'user', content: m.text });
    if (m.type !== 'begin_turn') {
      void cmd.multi().rpush(list, message).xack(key('conversation'), 'g', entryId).exec();
      return;
    }
    void cmd
      .multi()
      .rpush(list, message)
      .lrange(list, 0, -1)
      .exec()
      .then((res) => {
        const messages = ((res?.[1]?.[1] as string[] | undefined) ?? []).map((s) => JSON.parse(s) as unknown);
        return cmd
          .multi()
          .rpush(m.replyTo as string, JSON.stringify({ runId: m.runId, messages }))
          .xack(key('conversation'), 'g', entryId)
          .exec();
      });
  });
  console.log('raw conversation ready');
}

const roles: Record<string, () => Promise<void>> = { gateway, agent, conversation };
const start = role ? roles[role] : undefined;
if (!start) {
  console.error(`usage: raw-path-worker.ts <${Object.keys(roles).join('|')}> <prefix>`);
  process.exit(2);
}
process.on('SIGTERM', () => process.exit(0));
await start();
