-- Takes one RPC call's expiry marker on a Redis Cluster, where drain-calls.lua cannot reach the
-- markers (each sits in a slot of its own): deletes it and answers what was left of its
-- lifetime, as drain-calls.lua answers each marker (cluster-call-consumer.ts).
--
-- keys: 1
-- KEYS[1]    the marker, rpc_expiry_key:{id}
-- returns    the ms its caller still waits (>= 0; deleted now), -1 (live, no TTL; deleted now)
--            or -2 (gone: expired or withdrawn)
local left = redis.call('PTTL', KEYS[1])
if left ~= -2 then redis.call('DEL', KEYS[1]) end
return left
