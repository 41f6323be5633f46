-- Takes RPC calls for a server without blocking (call-consumer.ts sends it in one write with
-- the BLPOP behind it). First deletes the markers of calls taken earlier that are already
-- running or still unchecked. Then pops up to a maximum of calls across the queues, deleting
-- each one's marker in the same step: a first pass takes at most a fair share from each queue
-- so one busy API cannot starve the others, a second pass fills what is left.
-- (`LPOP key count` needs Redis 6.2.)
--
-- A marker is answered with what was left of its lifetime before it was deleted (its PTTL): the
-- time its caller still waits, in Redis's clock, so a server on another host knows the call's
-- deadline without comparing clocks.
--
-- keys: any (the number of queues)
-- KEYS[1..]  the n call queues to drain, {api}:rpc_queue, in the order to take them
-- ARGV[1]    how many calls to pop at most
-- ARGV[2..]  first n: the marker key prefix of each queue's calls, in the order of KEYS
--            (rpc_expiry_key:, or lightbus:{api}:rpc_expiry_key: with the hash-tagged keys);
--            then the marker keys of calls taken earlier, to be deleted
-- returns    the count of those markers, then each one's marker answer, then for each call popped a
--            queue, blob, marker-answer triple, flat. A marker answer is the ms its caller still
--            waits (>= 0; the marker was live and is deleted now), -1 (live, with no TTL),
--            -2 (gone: expired or withdrawn) or -3 (the call has no readable id)
local function take_marker(key)
  local left = redis.call('PTTL', key)
  if left ~= -2 then redis.call('DEL', key) end
  return left
end
local n = #KEYS
local out = {#ARGV - 1 - n}
for i = n + 2, #ARGV do out[#out + 1] = take_marker(ARGV[i]) end
local max = tonumber(ARGV[1])
local share = math.ceil(max / #KEYS)
local taken = 0
for pass = 1, 2 do
  for q, key in ipairs(KEYS) do
    local want = max - taken
    if pass == 1 and share < want then want = share end
    if want > 0 then
      local items = redis.call('LPOP', key, want)
      if items then
        for _, blob in ipairs(items) do
          local marker = -3
          local ok, message = pcall(cjson.decode, blob)
          if ok and type(message) == 'table' and type(message.metadata) == 'table' then
            local id = message.metadata.id
            if type(id) == 'string' and id ~= '' then marker = take_marker(ARGV[1 + q] .. id) end
          end
          out[#out + 1] = key
          out[#out + 1] = blob
          out[#out + 1] = marker
        end
        taken = taken + #items
      end
    end
  end
end
return out
