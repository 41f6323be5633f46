-- Writes events: the XADDs of one tick's fires, one by one (event-sender.ts). The entries are
-- exactly the plain `XADD {stream} MAXLEN ~ N * fields` of the wire contract; the fields of the
-- whole run travel as one JSON argument, decoded here, because the client spends per argument
-- what Redis does not spend on decoding (docs/benchmark.md, figure 3).
--
-- keys: any (the number of streams)
-- KEYS[1..]  the streams of the run
-- ARGV[1]    the approximate MAXLEN, '' for none
-- ARGV[2]    a JSON array alternating the index of an event's stream in KEYS and the array of
--            its fields
-- returns    one reply per event, in order: the new entry's id, or the error of its XADD (a
--            `pcall` error table, which reaches the client as an error inside the array), so
--            one bad stream fails only its own events
local trim = ARGV[1]
local batch = cjson.decode(ARGV[2])
local out = {}
for i = 1, #batch, 2 do
  if trim == '' then
    out[#out + 1] = redis.pcall('XADD', KEYS[batch[i]], '*', unpack(batch[i + 1]))
  else
    out[#out + 1] = redis.pcall('XADD', KEYS[batch[i]], 'MAXLEN', '~', trim, '*', unpack(batch[i + 1]))
  end
end
return out
