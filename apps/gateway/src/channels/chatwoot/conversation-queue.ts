/**
 * One Chatwoot conversation answers one message at a time, in order. Messages wait in a Redis list
 * per conversation; only the head has a run (or a direct answer) in flight, and the next one is
 * started when the head's answer has been posted. This is what keeps a burst of WhatsApp messages
 * answered in the order it was written, across gateway replicas and agent workers, without any
 * process holding state: the chain is carried by the bus actions themselves.
 *
 * Every key of a conversation shares its hash slot, so the scripts run on Redis Cluster too.
 */
import type { Redis } from 'ioredis';
import type { ChatwootAddress } from '@parley/contracts';

export interface Job {
  runId: string;
  /** `run`: an agent.run answers; `direct`: a fixed text (attachments, a request for a person). */
  kind: 'run' | 'direct';
  tenantId: string;
  agentId: string | null;
  address: ChatwootAddress;
  contactId: number | null;
  text?: string;
  content?: string;
  handoff?: boolean;
}

export type Enqueued = { state: 'duplicate' | 'handed_off' | 'queued' } | { state: 'start'; job: Job };

// Returns {code, runId?}: -1 duplicate delivery, -2 duplicate message, -3 handed to a human,
// 1 the job is the head (start it), 2 the head looks stalled (start it again), 0 queued behind.
const ENQUEUE = `
if redis.call('EXISTS', KEYS[5]) == 1 then return {-3} end
if ARGV[4] == '1' and not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return {-1} end
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return {-2} end
redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
local n = redis.call('RPUSH', KEYS[3], ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[1])
redis.call('EXPIRE', KEYS[4], ARGV[1])
local head = redis.call('LINDEX', KEYS[3], 0)
local kicked = tonumber(redis.call('HGET', KEYS[4], 'k:' .. head) or '0')
if n == 1 or tonumber(ARGV[5]) - kicked > tonumber(ARGV[6]) then
  redis.call('HSET', KEYS[4], 'k:' .. head, ARGV[5])
  return {n == 1 and 1 or 2, head}
end
return {0}
`;

// Pops the head only if it is the run that just finished (a redelivered send must not pop twice),
// and returns the next job to start.
const ADVANCE = `
if redis.call('LINDEX', KEYS[1], 0) ~= ARGV[1] then return false end
redis.call('LPOP', KEYS[1])
redis.call('HDEL', KEYS[2], ARGV[1], 'k:' .. ARGV[1])
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then return false end
redis.call('HSET', KEYS[2], 'k:' .. head, ARGV[2])
return redis.call('HGET', KEYS[2], head)
`;

type ScriptCall = (...args: Array<string | number>) => Promise<unknown>;
interface QueueScripts {
  chatwootEnqueue: ScriptCall;
  chatwootAdvance: ScriptCall;
  chatwootRekick: ScriptCall;
}

// A head whose start is older than the stall limit is started again (its run or send was lost).
const REKICK = `
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then return {0} end
local kicked = tonumber(redis.call('HGET', KEYS[2], 'k:' .. head) or '0')
if tonumber(ARGV[1]) - kicked <= tonumber(ARGV[2]) then return {1} end
redis.call('HSET', KEYS[2], 'k:' .. head, ARGV[1])
return {2, redis.call('HGET', KEYS[2], head)}
`;

export class ConversationQueue {
  private readonly scripts: QueueScripts;
  /** Conversations with a job in flight, scored by when it started: what the stall sweep looks at. */
  private readonly active: string;

  constructor(
    private readonly redis: Redis,
    private readonly prefix: string,
    private readonly ttlS: number,
    private readonly stallMs: number,
  ) {
    // EVALSHA: the script body is not re-sent with every webhook (it was a measurable share of the hot path).
    if (!('chatwootEnqueue' in redis)) {
      redis.defineCommand('chatwootEnqueue', { numberOfKeys: 5, lua: ENQUEUE });
      redis.defineCommand('chatwootAdvance', { numberOfKeys: 2, lua: ADVANCE });
      redis.defineCommand('chatwootRekick', { numberOfKeys: 2, lua: REKICK });
    }
    this.scripts = redis as unknown as QueueScripts;
    this.active = `${prefix}:chatwoot:active`;
  }

  /**
   * The index lives in its own slot, so it cannot change in the conversation's script; it is only a
   * hint for the sweep (which re-checks under the script), so it is updated without waiting.
   */
  private track(a: { accountId: number; conversationId: number }, inFlight: boolean): void {
    const member = `${a.accountId}:${a.conversationId}`;
    void (inFlight ? this.redis.zadd(this.active, Date.now(), member) : this.redis.zrem(this.active, member)).catch(() => {});
  }

  /** Heads that stayed unanswered past the stall limit, re-armed for one caller to start again. */
  async sweep(limit = 50): Promise<Job[]> {
    const members = await this.redis.zrangebyscore(this.active, '-inf', Date.now() - this.stallMs, 'LIMIT', 0, limit);
    const jobs: Job[] = [];
    for (const member of members) {
      const [accountId, conversationId] = member.split(':').map(Number) as [number, number];
      const k = this.keys({ accountId, conversationId });
      const [code, job] = (await this.scripts.chatwootRekick(k.q, k.jobs, Date.now(), this.stallMs)) as [number, string?];
      this.track({ accountId, conversationId }, code !== 0);
      if (code === 2 && job) jobs.push(JSON.parse(job) as Job);
    }
    return jobs;
  }

  private keys(a: { accountId: number; conversationId: number }) {
    const base = `${this.prefix}:chatwoot:{cw:${a.accountId}:${a.conversationId}}`;
    return { q: `${base}:q`, jobs: `${base}:jobs`, human: `${base}:human`, delivery: (id: string) => `${base}:d:${id}`, message: (id: number) => `${base}:m:${id}` };
  }

  /** Dedupes by delivery id and message id, then queues; says whether this job must be started now. */
  async enqueue(job: Job, deliveryId: string | undefined): Promise<Enqueued> {
    const k = this.keys(job.address);
    const messageId = job.address.messageId ?? 0;
    const now = Date.now();
    // One write for both: the index entry is added (NX: an older score stays) whatever the outcome;
    // the sweep drops entries whose queue turns out empty.
    const pipe = this.redis.pipeline() as unknown as { chatwootEnqueue: (...a: Array<string | number>) => unknown; zadd: (...a: Array<string | number>) => unknown; exec: () => Promise<Array<[Error | null, unknown]> | null> };
    pipe.chatwootEnqueue(k.delivery(deliveryId ?? '-'), k.message(messageId), k.q, k.jobs, k.human, this.ttlS, job.runId, JSON.stringify(job), deliveryId ? '1' : '0', now, this.stallMs);
    pipe.zadd(this.active, 'NX', now, `${job.address.accountId}:${job.address.conversationId}`);
    const replies = (await pipe.exec()) ?? [];
    const [err, reply] = replies[0] ?? [new Error('no reply from the enqueue script'), null];
    if (err) throw err;
    const res = reply as [number, string?];
    const code = res[0];
    if (code === -1 || code === -2) return { state: 'duplicate' };
    if (code === -3) return { state: 'handed_off' };
    if (code === 0) return { state: 'queued' };
    if (res[1] === job.runId) return { state: 'start', job };
    const stalled = await this.redis.hget(k.jobs, res[1] ?? '');
    return stalled ? { state: 'start', job: JSON.parse(stalled) as Job } : { state: 'queued' };
  }

  /** After `runId`'s answer is out: the next job of the conversation to start, if any. */
  async advance(address: { accountId: number; conversationId: number }, runId: string): Promise<Job | null> {
    const k = this.keys(address);
    const next = (await this.scripts.chatwootAdvance(k.q, k.jobs, runId, Date.now())) as string | null;
    if (next || (await this.redis.llen(k.q)) === 0) this.track(address, next !== null);
    return next ? (JSON.parse(next) as Job) : null;
  }

  /** The conversation is a human's now: queued messages are theirs to read, and the bot stays quiet. */
  async handOver(address: { accountId: number; conversationId: number }, quietS: number): Promise<void> {
    const k = this.keys(address);
    await this.redis.multi().del(k.q, k.jobs).set(k.human, '1', 'EX', quietS).exec();
    this.track(address, false);
  }

  /** A human took the conversation some other way: drop what waits, keep the in-flight answer. */
  async release(address: { accountId: number; conversationId: number }): Promise<void> {
    const k = this.keys(address);
    await this.redis.del(k.q, k.jobs);
    this.track(address, false);
  }

  /** An agent gave the conversation back to the bot. */
  async resume(address: { accountId: number; conversationId: number }): Promise<void> {
    await this.redis.del(this.keys(address).human);
  }
}
