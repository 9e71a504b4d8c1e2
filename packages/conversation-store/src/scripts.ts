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
local ttl = tonumber(ARGV[13])
local createdConv = 0
-- The header is read once, whole, and every change below is made to this table and written back in
-- one HSET: a save costs a fixed handful of commands however many fields it touches.
local flat = redis.call('HGETALL', M)
local h = {}
for i = 1, #flat, 2 do h[flat[i]] = flat[i + 1] end
local function writeHeader()
  local args = {}
  for k, v in pairs(h) do args[#args + 1] = k; args[#args + 1] = v end
  redis.call('HSET', M, unpack(args))
end
local function withSnapshot(res)
  if ARGV[17] == nil or ARGV[17] == '' then return res end
  local n = tonumber(ARGV[17])
  local meta = {}
  for k, v in pairs(h) do meta[#meta + 1] = k; meta[#meta + 1] = v end
  res[8] = meta
  -- LRANGE -0 -1 would be the whole list, not none of it.
  if n > 0 then res[9] = redis.call('LRANGE', L, -n, -1) else res[9] = {} end
  return res
end
local prev = redis.call('HGET', I, ARGV[2])
-- A fenced save writes a new message only while the run lock holds the caller's value, checked
-- before anything changes; a message already stored is still answered as a duplicate.
if not prev and ARGV[18] ~= '' and redis.call('GET', KEYS[6]) ~= ARGV[18] then return {'fenced'} end
if h.t == nil then
  if ARGV[15] == '' then return {'missing'} end
  -- Re-creating must happen under the lease, so the archive read it was built from is still true.
  if redis.call('GET', K) ~= ARGV[15] then return {'lease'} end
  local c = cjson.decode(ARGV[16])
  h = {t = tenant, a = c.a, ch = c.ch, s = c.s, u = c.u, ti = c.ti, st = c.st, n = tostring(c.n), b = tostring(c.n),
    tc = tostring(c.tc), ca = tostring(c.ca), la = tostring(c.la), cl = tostring(c.cl), du = tostring(c.du)}
  -- The lease only guarded the archive read this copy was built from; the copy exists now, so it is
  -- released here rather than in one more round trip (the caller knows it by createdConv).
  redis.call('DEL', K)
  createdConv = 1
elseif h.t ~= tenant then
  return {'tenant'}
end
if prev then
  if createdConv == 1 then
    writeHeader()
    redis.call('PEXPIRE', M, ttl)
    redis.call('PEXPIRE', I, ttl)
  end
  return withSnapshot({'dup', prev, createdConv, h.la, h.du, h.st, h.u or ''})
end
local seq = tonumber(h.n or '0') + 1
redis.call('RPUSH', L, '{"seq":' .. seq .. ',' .. string.sub(ARGV[3], 2))
redis.call('RPUSH', F, ARGV[4])
redis.call('HSET', I, ARGV[2], seq .. ':' .. ARGV[5])
h.n = tostring(seq)
h.tc = tostring(tonumber(h.tc or '0') + tonumber(ARGV[5]))
-- Last activity strictly increases, so index entries written by older saves never equal newer ones
-- (the migration's conditional removals rely on that).
local now = tonumber(ARGV[6])
local la = tonumber(h.la or '0')
if now > la then la = now else la = la + 1 end
if h.st == 'closed' and ARGV[7] == 'user' then
  h.st = 'open'
  h.cl = ''
end
local du = la + tonumber(ARGV[14])
if h.st == 'closed' then du = la end
h.la = tostring(la)
h.du = tostring(du)
if ARGV[7] == 'user' and ARGV[8] ~= '' and (h.ti or '') == '' then h.ti = ARGV[8] end
local fill = {{'a', ARGV[9]}, {'ch', ARGV[10]}, {'s', ARGV[11]}, {'u', ARGV[12]}}
for _, f in ipairs(fill) do
  if f[2] ~= '' and (h[f[1]] or '') == '' then h[f[1]] = f[2] end
end
-- The four keys live ttl past their last refresh (x), renewed once half of it has passed rather than on
-- every save: the lists and the ids hash never shrink, so a key created by this save (a first message,
-- a re-created copy) is always one whose header has no x yet, and gets its TTL here.
local x = tonumber(h.x or '')
local refresh = createdConv == 1 or x == nil or now - x >= ttl / 2
if refresh then h.x = tostring(now) end
writeHeader()
if refresh then
  redis.call('PEXPIRE', M, ttl)
  redis.call('PEXPIRE', L, ttl)
  redis.call('PEXPIRE', I, ttl)
  redis.call('PEXPIRE', F, ttl)
end
return withSnapshot({'ok', seq, createdConv, h.la, h.du, h.st, h.u or ''})
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
