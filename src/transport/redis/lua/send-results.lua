-- Pushes RPC results onto the return path a caller named, and sets the list's expiry, only if
-- the key is a list or absent: one atomic step, so a caller that names a key of its own
-- holding something else (its name passed the shape check) gets nothing written to it and no
-- expiry set. Sent by result-transport.ts; the results of one tick for one return path.
--
-- keys: 1
-- KEYS[1]    the return path's list
-- ARGV[1]    the list's expiry, ms (the contract's EXPIRE at a finer grain)
-- ARGV[2..]  the encoded results, pushed in order
-- returns    the list's length, or a WRONGTYPE error naming what the key holds
local kind = redis.call('TYPE', KEYS[1])['ok']
if kind ~= 'list' and kind ~= 'none' then
  return redis.error_reply('WRONGTYPE the return path key holds a ' .. kind .. ', not a list: no result written')
end
local length = redis.call('LPUSH', KEYS[1], unpack(ARGV, 2))
redis.call('PEXPIRE', KEYS[1], ARGV[1])
return length
