-- Pushes RPC calls onto one API's queue on a Redis Cluster, once their markers are written
-- (rpc-transport.ts writes them first, each in its own slot, and waits for the replies): the
-- RPUSH of send-calls.lua and its queue TTL, raised to the longest marker TTL, never lowered.
-- A queue that exists without a TTL (a Python caller's) keeps none: its newest call's marker,
-- which send-calls.lua reads to cover it, is in another slot.
--
-- keys: 1
-- KEYS[1]    the call queue, {api}:rpc_queue
-- ARGV[1]    the longest marker TTL of these calls, ms
-- ARGV[2..]  the encoded calls
-- returns    the queue's length
local before = redis.call('PTTL', KEYS[1])
local length = redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
if before ~= -1 and before < tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return length
