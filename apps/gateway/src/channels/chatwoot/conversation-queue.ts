/**
 * One Chatwoot conversation answers one message at a time, in order. Messages wait in a Redis list
 * per conversation; only the head has a run (or a direct answer) in flight, and the next one is
 * started when the head's answer has been posted. This is what keeps a burst of WhatsApp messages
 * answered in the order it was written, across gateway replicas and agent workers, without any
 * process holding state: the chain is carried by the bus actions themselves.
 *
 * Every key of a conversation shares its hash slot, so the scripts run on Redis Cluster too.
 */
import type { RedisClient } from '@parley/bus';
import { keyPart, type ChatwootAddress } from '@parley/contracts';

/**
 * One Chatwoot conversation as the gateway keys it: the inbox binding (and so the tenant) is part
 * of it, because Chatwoot's account, conversation and message ids are only unique inside one
 * Chatwoot installation. Two tenants' inboxes never share a queue, a dedupe key or a hand-off.
 */
export interface ConversationRef {
  tenantId: string;
  accountId: number;
  inboxId: number;
  conversationId: number;
}

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
  /** The polite word sent when a message's attempts ran out: nothing of the contact's is saved again. */
  notice?: boolean;
}

/** What to do after a queue step: nothing, start a job, or give a message up (send `noticeRunId`'s notice). */
export type Next = null | { start: Job } | { giveUp: Job; noticeRunId: string };

export type Enqueued = { state: 'duplicate' | 'handed_off' | 'queued' } | { state: 'start'; next: NonNullable<Next> };

export const refOf = (job: Pick<Job, 'tenantId' | 'address'>): ConversationRef => ({
  tenantId: job.tenantId,
  accountId: job.address.accountId,
  inboxId: job.address.inboxId,
  conversationId: job.address.conversationId,
});

// Starting the head again after a stall. Every start counts an attempt (`a:<run>`). Within the
// limit: {2, job} (start it again). The first time the limit is passed: {3, job, noticeId}, the
// head is marked given up (`g:<run>` = the notice's run id) and stays until its notice is posted.
// A head given up whose notice never came either: popped without a second notice, {4, next job?}.
const KICK = `
local function kick(q, jobs, now, max, noticeId)
  local head = redis.call('LINDEX', q, 0)
  if not head then return {0} end
  local tries = redis.call('HINCRBY', jobs, 'a:' .. head, 1)
  redis.call('HSET', jobs, 'k:' .. head, now)
  if tries <= max then return {2, redis.call('HGET', jobs, head)} end
  if redis.call('HEXISTS', jobs, 'g:' .. head) == 0 then
    redis.call('HSET', jobs, 'g:' .. head, noticeId)
    return {3, redis.call('HGET', jobs, head), noticeId}
  end
  redis.call('LPOP', q)
  redis.call('HDEL', jobs, head, 'k:' .. head, 'a:' .. head, 'g:' .. head)
  local nxt = redis.call('LINDEX', q, 0)
  if not nxt then return {4} end
  redis.call('HSET', jobs, 'k:' .. nxt, now, 'a:' .. nxt, 1)
  return {4, redis.call('HGET', jobs, nxt)}
end
`;

// KEYS: delivery, message, q, jobs, human. ARGV: ttl, runId, job, hasDelivery, now, stallMs, max, noticeId.
// Returns {-1} duplicate delivery, {-2} duplicate message, {-3} handed to a human, {1} the job is
// the head (start it), {0} queued behind a live head, or a KICK answer when the head looks stalled.
const ENQUEUE = `${KICK}
if redis.call('EXISTS', KEYS[5]) == 1 then return {-3} end
if ARGV[4] == '1' and not redis.call('SET', KEYS[1], '1', 'NX', 'EX', ARGV[1]) then return {-1} end
if not redis.call('SET', KEYS[2], '1', 'NX', 'EX', ARGV[1]) then return {-2} end
redis.call('HSET', KEYS[4], ARGV[2], ARGV[3])
local n = redis.call('RPUSH', KEYS[3], ARGV[2])
redis.call('EXPIRE', KEYS[3], ARGV[1])
redis.call('EXPIRE', KEYS[4], ARGV[1])
if n == 1 then
  redis.call('HSET', KEYS[4], 'k:' .. ARGV[2], ARGV[5], 'a:' .. ARGV[2], 1)
  return {1}
end
local head = redis.call('LINDEX', KEYS[3], 0)
local kicked = tonumber(redis.call('HGET', KEYS[4], 'k:' .. head) or '0')
if tonumber(ARGV[5]) - kicked > tonumber(ARGV[6]) then return kick(KEYS[3], KEYS[4], ARGV[5], tonumber(ARGV[7]), ARGV[8]) end
return {0}
`;

// Pops the head only if it is the run that just finished, or the notice of a head given up (a
// redelivered send must not pop twice), and returns the next job to start.
const ADVANCE = `
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then return false end
if head ~= ARGV[1] and redis.call('HGET', KEYS[2], 'g:' .. head) ~= ARGV[1] then return false end
redis.call('LPOP', KEYS[1])
redis.call('HDEL', KEYS[2], head, 'k:' .. head, 'a:' .. head, 'g:' .. head)
local nxt = redis.call('LINDEX', KEYS[1], 0)
if not nxt then return false end
redis.call('HSET', KEYS[2], 'k:' .. nxt, ARGV[2], 'a:' .. nxt, 1)
return redis.call('HGET', KEYS[2], nxt)
`;

type ScriptCall = (...args: Array<string | number>) => Promise<unknown>;
interface QueueScripts {
  chatwootEnqueue: ScriptCall;
  chatwootAdvance: ScriptCall;
  chatwootRekick: ScriptCall;
}

// A head whose start is older than the stall limit is started again (its run or send was lost), or given up.
const REKICK = `${KICK}
local head = redis.call('LINDEX', KEYS[1], 0)
if not head then return {0} end
local kicked = tonumber(redis.call('HGET', KEYS[2], 'k:' .. head) or '0')
if tonumber(ARGV[1]) - kicked <= tonumber(ARGV[2]) then return {1} end
return kick(KEYS[1], KEYS[2], ARGV[1], tonumber(ARGV[3]), ARGV[4])
`;

export class ConversationQueue {
  private readonly scripts: QueueScripts;
  /** Conversations with a job in flight, scored by when it started: what the stall sweep looks at. */
  private readonly active: string;

  /**
   * @param maxAttempts starts of one message before it is given up (CHATWOOT_MESSAGE_ATTEMPTS): a
   *   message whose run keeps failing must not hold its conversation forever.
   * @param newRunId the run id of a give-up notice, should one be needed.
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly prefix: string,
    private readonly ttlS: number,
    private readonly stallMs: number,
    private readonly maxAttempts: number,
    private readonly newRunId: () => string,
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

  /** The conversation's id inside keys: the tenant encoded (it comes from configuration), then the numeric ids. */
  private static member(r: ConversationRef): string {
    return `${keyPart(r.tenantId)}:${r.accountId}:${r.inboxId}:${r.conversationId}`;
  }

  /**
   * The index lives in its own slot, so it cannot change in the conversation's script; it is only a
   * hint for the sweep (which re-checks under the script), so it is updated without waiting.
   */
  private track(r: ConversationRef | string, inFlight: boolean): void {
    const member = typeof r === 'string' ? r : ConversationQueue.member(r);
    void (inFlight ? this.redis.zadd(this.active, Date.now(), member) : this.redis.zrem(this.active, member)).catch(() => {
      /* a hint only: the sweep re-checks under the script */
    });
  }

  /** Every key of one conversation, in one hash slot. */
  private keys(r: ConversationRef | string) {
    const base = `${this.prefix}:chatwoot:{cw:${typeof r === 'string' ? r : ConversationQueue.member(r)}}`;
    return {
      q: `${base}:q`,
      jobs: `${base}:jobs`,
      human: `${base}:human`,
      delivery: (id: string) => `${base}:d:${keyPart(id)}`,
      message: (id: number) => `${base}:m:${id}`,
    };
  }

  /** Heads that stayed unanswered past the stall limit, re-armed (or given up) for one caller to act on. */
  async sweep(limit = 50): Promise<Array<NonNullable<Next>>> {
    const members = await this.redis.zrangebyscore(this.active, '-inf', Date.now() - this.stallMs, 'LIMIT', 0, limit);
    const out: Array<NonNullable<Next>> = [];
    for (const member of members) {
      const k = this.keys(member);
      const res = (await this.scripts.chatwootRekick(k.q, k.jobs, Date.now(), this.stallMs, this.maxAttempts, this.newRunId())) as KickReply;
      const next = nextOf(res);
      this.track(member, res[0] !== 0 && !(res[0] === 4 && !next));
      if (next) out.push(next);
    }
    return out;
  }

  /** Dedupes by delivery id and message id, then queues; says whether a job must be started now. */
  async enqueue(job: Job, deliveryId: string | undefined): Promise<Enqueued> {
    const ref = refOf(job);
    const k = this.keys(ref);
    const messageId = job.address.messageId ?? 0;
    const now = Date.now();
    // The index entry lives in another slot, so it goes beside the script rather than in one pipeline
    // (a cluster refuses a pipeline across slots); both are in flight together. NX: an older score
    // stays; the sweep drops entries whose queue turns out empty.
    void this.redis.zadd(this.active, 'NX', now, ConversationQueue.member(ref)).catch(() => {
      /* a hint only: the sweep re-checks under the script */
    });
    const reply = await this.scripts.chatwootEnqueue(
      k.delivery(deliveryId ?? '-'),
      k.message(messageId),
      k.q,
      k.jobs,
      k.human,
      this.ttlS,
      job.runId,
      JSON.stringify(job),
      deliveryId ? '1' : '0',
      now,
      this.stallMs,
      this.maxAttempts,
      this.newRunId(),
    );
    const res = reply as KickReply;
    const code = res[0];
    if (code === -1 || code === -2) return { state: 'duplicate' };
    if (code === -3) return { state: 'handed_off' };
    if (code === 0) return { state: 'queued' };
    if (code === 1) return { state: 'start', next: { start: job } };
    const next = nextOf(res);
    return next ? { state: 'start', next } : { state: 'queued' };
  }

  /** After `runId`'s answer (or a given-up head's notice) is out: the next job of the conversation to start, if any. */
  async advance(ref: ConversationRef, runId: string): Promise<Job | null> {
    const k = this.keys(ref);
    const next = (await this.scripts.chatwootAdvance(k.q, k.jobs, runId, Date.now())) as string | null;
    if (next || (await this.redis.llen(k.q)) === 0) this.track(ref, next !== null);
    return next ? (JSON.parse(next) as Job) : null;
  }

  /** The conversation is a human's now: queued messages are theirs to read, and the bot stays quiet. */
  async handOver(ref: ConversationRef, quietS: number): Promise<void> {
    const k = this.keys(ref);
    await this.redis.multi().del(k.q, k.jobs).set(k.human, '1', 'EX', quietS).exec();
    this.track(ref, false);
  }

  /** A human took the conversation some other way: drop what waits, keep the in-flight answer. */
  async release(ref: ConversationRef): Promise<void> {
    const k = this.keys(ref);
    await this.redis.del(k.q, k.jobs);
    this.track(ref, false);
  }

  /** An agent gave the conversation back to the bot. */
  async resume(ref: ConversationRef): Promise<void> {
    await this.redis.del(this.keys(ref).human);
  }
}

type KickReply = [number, string?, string?];

function nextOf(res: KickReply): Next {
  const [code, job, noticeRunId] = res;
  if (!job) return null;
  if (code === 2 || code === 4) return { start: JSON.parse(job) as Job };
  if (code === 3 && noticeRunId) return { giveUp: JSON.parse(job) as Job, noticeRunId };
  return null;
}
