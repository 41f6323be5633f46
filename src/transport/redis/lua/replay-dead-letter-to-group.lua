-- Replays a dead letter to the one group that gave up (`inspect dead-letters replay`,
-- inspect/dead-letters.ts): appends its original fields to the group's replay stream
-- (transport/replay-stream.ts) after creating the group on it (from the start, so it gets
-- the entry), then deletes the letter. The group is created first: if that fails, nothing
-- was written.
--
-- keys: 2
-- KEYS[1]    the dead-letter stream
-- KEYS[2]    the group's replay stream, lightbus:replay:{group}
-- ARGV[1]    the dead letter's id
-- ARGV[2]    the approximate MAXLEN of KEYS[2], '' for none
-- ARGV[3]    the group (the letter's `group` field must name it)
-- returns    the new entry's id; nil when the letter is gone (replayed or deleted meanwhile)
local entry = redis.call('XRANGE', KEYS[1], ARGV[1], ARGV[1])
if #entry == 0 then return false end
local flat = entry[1][2]
local group, fields
for i = 1, #flat - 1, 2 do
  if flat[i] == 'group' then group = flat[i + 1] elseif flat[i] == 'fields' then fields = flat[i + 1] end
end
if group ~= ARGV[3] or not fields then return redis.error_reply('the dead letter changed while it was being replayed') end
local created = redis.pcall('XGROUP', 'CREATE', KEYS[2], group, '0', 'MKSTREAM')
if type(created) == 'table' and created.err and not string.find(created.err, 'BUSYGROUP', 1, true) then return created end
local args = {'XADD', KEYS[2]}
if ARGV[2] ~= '' then
  args[#args + 1] = 'MAXLEN'; args[#args + 1] = '~'; args[#args + 1] = ARGV[2]
end
args[#args + 1] = '*'
for _, value in ipairs(cjson.decode(fields)) do args[#args + 1] = value end
local id = redis.call(unpack(args))
redis.call('XDEL', KEYS[1], ARGV[1])
return id
