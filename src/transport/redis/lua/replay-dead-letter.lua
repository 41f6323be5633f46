-- Replays a dead letter to every group of its stream (`inspect dead-letters replay
-- --all-groups`, inspect/dead-letters.ts): checks the entry is there, appends its original
-- fields to its stream as a new entry and deletes it, in one step, so two operators replaying
-- the same letter cannot both succeed.
--
-- keys: 2
-- KEYS[1]    the dead-letter stream
-- KEYS[2]    the stream the letter came from (its `stream` field must name it)
-- ARGV[1]    the dead letter's id
-- ARGV[2]    the approximate MAXLEN of KEYS[2], '' for none
-- returns    the new entry's id; nil when the letter is gone (replayed or deleted meanwhile)
local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #entry == 0 then return false end
local flat = entry[1][2]
local stream, fields
for i = 1, #flat - 1, 2 do
  if flat[i] == 'stream' then stream = flat[i + 1] elseif flat[i] == 'fields' then fields = flat[i + 1] end
end
if stream ~= KEYS[2] or not fields then return redis.error_reply('the dead letter changed while it was being replayed') end
local args = {'XADD', KEYS[2]}
if ARGV[2] ~= '' then
  args[#args + 1] = 'MAXLEN'; args[#args + 1] = '~'; args[#args + 1] = ARGV[2]
end
args[#args + 1] = '*'
for _, value in ipairs(cjson.decode(fields)) do args[#args + 1] = value end
local id = redis.call(unpack(args))
redis.call('XDEL', KEYS[1], ARGV[1])
return id
