-- Sends RPC calls to one API: sets the expiry marker of every call, then RPUSHes the calls onto
-- the queue in one go (markers first, as the contract requires: a server drops a call whose
-- marker it cannot delete). Sent by rpc-transport.ts; the calls of one tick to one API. Each
-- marker lives as long as its caller waits: once the caller gave up, no server starts the call.
--
-- Then the queue's TTL: every call in it is dead once its marker expired, so the queue may go
-- when its longest-lived marker does, and an API nobody serves leaves nothing behind. The TTL
-- is raised to this send's longest marker TTL, never lowered. A queue that exists without a TTL
-- was written by a caller that sets none (Python Lightbus, or an older lightbus): its newest
-- call's marker is read, so the TTL covers that call too.
--
-- keys: any (1 + the number of calls)
-- KEYS[1]    the call queue, {api}:rpc_queue
-- KEYS[2..]  the expiry marker of each call, rpc_expiry_key:{id}
-- ARGV[1]    the marker key prefix, to find the marker of a call already queued
-- ARGV[2..n+1]    each call's marker TTL, ms (`SET ... PX`: the contract's SET + EXPIRE in one
--                 command), in the order of the markers
-- ARGV[n+2..2n+1] the encoded calls, in the same order
-- returns    the queue's length
local n = #KEYS - 1
local ttl = 0
for i = 1, n do
  local own = tonumber(ARGV[1 + i])
  if own > ttl then ttl = own end
end
local before = redis.call('PTTL', KEYS[1])
if before == -1 then
  local ok, message = pcall(cjson.decode, redis.call('LINDEX', KEYS[1], -1))
  if ok and type(message) == 'table' and type(message.metadata) == 'table' and type(message.metadata.id) == 'string' then
    local left = redis.call('PTTL', ARGV[1] .. message.metadata.id)
    if left > ttl then ttl = left end
  end
end
for i = 1, n do redis.call('SET', KEYS[1 + i], '1', 'PX', ARGV[1 + i]) end
local length = redis.call('RPUSH', KEYS[1], unpack(ARGV, n + 2))
if before < ttl then redis.call('PEXPIRE', KEYS[1], ttl) end
return length
