// The scripts behind every lease steadfast keeps in Redis (partition leases, a store's lock): a
// lease is a key holding its owner's token, with an expiry; only the owner renews or deletes it.
import { luaScript } from './script.js';

/** Renews each lease in KEYS still held by ARGV[1] to ARGV[2] ms; answers 1 (renewed) or 0 (not ours) per key. */
export const RENEW_LEASES = luaScript(`
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('PEXPIRE', key, ARGV[2])
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
`);

/** Deletes each lease in KEYS still held by ARGV[1]; answers 1 (released) or 0 (not ours) per key. */
export const RELEASE_LEASES = luaScript(`
local out = {}
for i, key in ipairs(KEYS) do
  if redis.call('GET', key) == ARGV[1] then
    redis.call('DEL', key)
    out[i] = 1
  else
    out[i] = 0
  end
end
return out
`);
