// The scripts behind every lease steadfast keeps in Redis (partition leases, a store's lock): a
// lease is a key holding its owner's token, with an expiry; only the owner renews or deletes it.
import { luaScript } from './script.js';

/** For each lease in KEYS still held by ARGV[1], runs `action` on it (`key` in scope); answers 1 (done) or 0 (not ours) per key. */
function perOwnedLease(action: string) {
  return luaScript(`
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    ${action}
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
`);
}

/** Renews each lease in KEYS still held by ARGV[1] to ARGV[2] ms; answers 1 (renewed) or 0 (not ours) per key. */
export const RENEW_LEASES = perOwnedLease(`redis.call('PEXPIRE', key, ARGV[2])`);

/** Deletes each lease in KEYS still held by ARGV[1]; answers 1 (released) or 0 (not ours) per key. */
export const RELEASE_LEASES = perOwnedLease(`redis.call('DEL', key)`);

/**
 * A member's heartbeat and its view of the group, at one moment: KEYS[1] the membership set (score:
 * expiry in the server's ms), KEYS[2…] the lease keys; ARGV[1] the member, ARGV[2] its ttl in ms.
 * Drops expired members; answers { live members, owner of each lease ('' for none) }.
 */
export const HEARTBEAT = luaScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
redis.call('PEXPIRE', KEYS[1], tonumber(ARGV[2]) * 2)
local members = redis.call('ZRANGE', KEYS[1], 0, -1)
local owners = {}
for i = 2, #KEYS do
  owners[i - 1] = redis.call('GET', KEYS[i]) or ''
end
return { members, owners }
`);
