import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';

/**
 * Lua scripts over ONE conversation's keys (one hash slot). Numbers written from Lua are epoch ms
 * (13 digits), which Lua 5.1's %.14g formats exactly.
 */

/**
 * KEYS: meta, msgs, ids, facts, lease, run lock (agent-execution's, see conversationLockKey).
 * ARGV: tenant, messageId, body (JSON without seq), facts, tokens, now, role, title candidate,
 *       agent, channel, session, user, ttlMs, idleMs, lease token ('' = do not create), init JSON,
 *       tail ('' = no snapshot, else how many of the newest messages to return),
 *       fence ('' = none, else the run lock's value this write requires).
 * Returns {'ok', seq, createdConv, la, du, status, user[, meta, tail]} | {'dup', "seq:tokens", createdConv, la, du, status, user[, meta, tail]}
 *       | {'missing'} | {'lease'} | {'tenant'} | {'fenced'}; meta is HGETALL's flat list, tail oldest first.
 * A fenced write whose message id is not stored yet is refused before anything changes.
 * With a lease token, a conversation that is not hot is re-created and the lease (checked to be
 * the caller's) is deleted in the same step.
 * The snapshot is read after the write, in the same step: begin_turn builds its context from it
 * instead of a third round trip, and no save or migration can slip in between.
 */
export const APPEND = `
local M, L, I, F, K = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local tenant = ARGV[1]
local createdConv = 0
local function withSnapshot(res)
  if ARGV[17] == nil or ARGV[17] == '' then return res end
  local n = tonumber(ARGV[17])
  res[8] = redis.call('HGETALL', M)
  -- LRANGE -0 -1 would be the whole list, not none of it.
  if n > 0 then res[9] = redis.call('LRANGE', L, -n, -1) else res[9] = {} end
  return res
end
local prev = redis.call('HGET', I, ARGV[2])
-- A fenced save writes a new message only while the run lock holds the caller's value, checked
-- before anything changes; a message already stored is still answered as a duplicate.
if not prev and ARGV[18] ~= '' and redis.call('GET', KEYS[6]) ~= ARGV[18] then return {'fenced'} end
if redis.call('EXISTS', M) == 0 then
  if ARGV[15] == '' then return {'missing'} end
  -- Re-creating must happen under the lease, so the archive read it was built from is still true.
  if redis.call('GET', K) ~= ARGV[15] then return {'lease'} end
  local c = cjson.decode(ARGV[16])
  redis.call('HSET', M, 't', tenant, 'a', c.a, 'ch', c.ch, 's', c.s, 'u', c.u, 'ti', c.ti, 'st', c.st,
    'n', c.n, 'b', c.n, 'tc', c.tc, 'ca', c.ca, 'la', c.la, 'cl', c.cl, 'du', c.du)
  -- The lease only guarded the archive read this copy was built from; the copy exists now, so it is
  -- released here rather than in one more round trip (the caller knows it by createdConv).
  redis.call('DEL', K)
  createdConv = 1
elseif redis.call('HGET', M, 't') ~= tenant then
  return {'tenant'}
end
local ttl = tonumber(ARGV[13])
if prev then
  local h = redis.call('HMGET', M, 'la', 'du', 'st', 'u')
  if createdConv == 1 then redis.call('PEXPIRE', M, ttl); redis.call('PEXPIRE', I, ttl) end
  return withSnapshot({'dup', prev, createdConv, h[1], h[2], h[3], h[4] or ''})
end
local seq = redis.call('HINCRBY', M, 'n', 1)
redis.call('RPUSH', L, '{"seq":' .. seq .. ',' .. string.sub(ARGV[3], 2))
redis.call('RPUSH', F, ARGV[4])
redis.call('HSET', I, ARGV[2], seq .. ':' .. ARGV[5])
redis.call('HINCRBY', M, 'tc', tonumber(ARGV[5]))
-- Last activity strictly increases, so index entries written by older saves never equal newer ones
-- (the migration's conditional removals rely on that).
local now = tonumber(ARGV[6])
local la = tonumber(redis.call('HGET', M, 'la') or '0')
if now > la then la = now else la = la + 1 end
local st = redis.call('HGET', M, 'st')
if st == 'closed' and ARGV[7] == 'user' then
  st = 'open'
  redis.call('HSET', M, 'st', 'open', 'cl', '')
end
local du = la + tonumber(ARGV[14])
if st == 'closed' then du = la end
redis.call('HSET', M, 'la', la, 'du', du)
if ARGV[7] == 'user' and ARGV[8] ~= '' and (redis.call('HGET', M, 'ti') or '') == '' then redis.call('HSET', M, 'ti', ARGV[8]) end
local fill = {{'a', ARGV[9]}, {'ch', ARGV[10]}, {'s', ARGV[11]}, {'u', ARGV[12]}}
for _, f in ipairs(fill) do
  if f[2] ~= '' and (redis.call('HGET', M, f[1]) or '') == '' then redis.call('HSET', M, f[1], f[2]) end
end
redis.call('PEXPIRE', M, ttl)
redis.call('PEXPIRE', L, ttl)
redis.call('PEXPIRE', I, ttl)
redis.call('PEXPIRE', F, ttl)
return withSnapshot({'ok', seq, createdConv, la, du, st, redis.call('HGET', M, 'u') or ''})
`;

/** KEYS: meta. ARGV: tenant, now. Returns {'ok', la, du, changed, user} | {'missing'} | {'tenant'}. */
export const CLOSE = `
local M = KEYS[1]
if redis.call('EXISTS', M) == 0 then return {'missing'} end
if redis.call('HGET', M, 't') ~= ARGV[1] then return {'tenant'} end
local h = redis.call('HMGET', M, 'st', 'la', 'du', 'u')
if h[1] == 'closed' then return {'ok', h[2], h[3], 0, h[4] or ''} end
local now = tonumber(ARGV[2])
local la = tonumber(h[2] or '0')
if now > la then la = now else la = la + 1 end
redis.call('HSET', M, 'st', 'closed', 'cl', la, 'la', la, 'du', la)
return {'ok', la, la, 1, h[4] or ''}
`;

/**
 * Migration's last step. KEYS: meta, msgs, ids, facts, lease. ARGV: lease token, copied seq, copied last activity.
 * Deletes the hot copy only if the caller still holds the lease and nothing changed since the copy:
 * every append and every close moves last activity forward, so equal means untouched.
 */
export const FINISH = `
if redis.call('GET', KEYS[5]) ~= ARGV[1] then return 'lease_lost' end
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('DEL', KEYS[5])
  return 'missing'
end
local h = redis.call('HMGET', KEYS[1], 'n', 'la')
if tonumber(h[1]) ~= tonumber(ARGV[2]) or tonumber(h[2]) ~= tonumber(ARGV[3]) then return 'changed' end
redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])
return 'deleted'
`;

/** Removes an index entry only if its score is still the one the caller saw. KEYS: zset. ARGV: member, score. */
export const ZREM_IF_SCORE = `
local s = redis.call('ZSCORE', KEYS[1], ARGV[1])
if s and tonumber(s) == tonumber(ARGV[2]) then return redis.call('ZREM', KEYS[1], ARGV[1]) end
return 0
`;

const shas = new Map<string, string>();

/** EVALSHA with a fallback to EVAL after a script cache flush or on a fresh server. */
export async function runScript(redis: Redis | Cluster, script: string, keys: string[], args: Array<string | number>): Promise<unknown> {
  let sha = shas.get(script);
  if (!sha) {
    sha = createHash('sha1').update(script).digest('hex');
    shas.set(script, sha);
  }
  try {
    return await redis.evalsha(sha, keys.length, ...keys, ...args);
  } catch (err) {
    if (!(err instanceof Error) || !err.message.includes('NOSCRIPT')) throw err;
    return redis.eval(script, keys.length, ...keys, ...args);
  }
}
