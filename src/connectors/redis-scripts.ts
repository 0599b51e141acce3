// The Lua scripts of the Redis connector. Written by hand because a consumer
// group alone cannot do three things Roost needs, and a script is the one way
// Redis offers to make several commands one step that no other client can
// interleave with:
//  - fencing: XACK acknowledges whoever holds the entry, so a consumer whose
//    lease ran out could acknowledge the delivery another consumer now runs.
//    Every settlement first checks, in XPENDING, that the entry is still held
//    by this consumer at the delivery count it fetched it with.
//  - delayed redelivery: an entry to deliver again later stays pending, with its
//    idle time set (XCLAIM … IDLE) so that XAUTOCLAIM's lease check passes it
//    just when the delay is over; a sorted set of due times keeps delays longer
//    than the lease from coming back early.
//  - uncounted redelivery: a release adds to a per-entry count in a hash that
//    the fetch subtracts from the delivery count.
// Time is the server's (TIME), so clients with skewed clocks agree.
import { defineScript } from 'redis'
import type { CommandParser } from 'redis'
import type { RedisKeys } from './redis-keys.js'

/** One fetched entry: [entry id, fields, delivery count, releases]. */
export type FetchedEntry = [Buffer, Buffer[], number, number]
/** An entry to hold: as the fetch script answers it, or as XREADGROUP does ([id, fields]: its first delivery, never released). */
export type HeldEntry = FetchedEntry | [Buffer, Buffer[]]
/** [the XAUTOCLAIM cursor to start from next time, the entries, ms until the group's soonest delayed entry is due (-1: none; 0 when overdue)]. */
export type FetchReply = [Buffer, FetchedEntry[], number]

export type SettleMode = 'ack' | 'dead' | 'retry' | 'release' | 'working'

const FETCH = `
local stream, delayed, released = KEYS[1], KEYS[2], KEYS[3]
local group, consumer = ARGV[1], ARGV[2]
local lease, max, cursor = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
local out = {}
-- Entries idle for a lease: their consumer died, ran out of lease, or asked for a delayed redelivery.
-- JUSTID leaves their delivery counts alone until it is known which of them are due.
-- The scan walks the pending entries, the costliest step here: the client asks for it only now and then (ARGV[6]).
local claimed = { cursor, {}, {} }
if ARGV[6] == '1' then claimed = redis.call('XAUTOCLAIM', stream, group, consumer, lease, cursor, 'COUNT', max, 'JUSTID') end
for _, id in ipairs(claimed[3] or {}) do
  redis.call('ZREM', delayed, id)
  redis.call('HDEL', released, id)
end
for _, id in ipairs(claimed[2]) do
  local due = tonumber(redis.call('ZSCORE', delayed, id))
  if due and due > now then
    redis.call('XCLAIM', stream, group, consumer, 0, id, 'IDLE', math.max(0, lease - (due - now)), 'JUSTID')
  else
    if due then redis.call('ZREM', delayed, id) end
    local entry = redis.call('XCLAIM', stream, group, consumer, 0, id)[1]
    if entry then
      local pending = redis.call('XPENDING', stream, group, id, id, 1)[1]
      out[#out + 1] = { entry[1], entry[2], pending[4], tonumber(redis.call('HGET', released, id)) or 0 }
    else
      redis.call('HDEL', released, id)
    end
  end
end
if #out < max then
  local read = redis.call('XREADGROUP', 'GROUP', group, consumer, 'COUNT', max - #out, 'STREAMS', stream, '>')
  if read then
    for _, entry in ipairs(read[1][2]) do out[#out + 1] = { entry[1], entry[2], 1, 0 } end
  end
end
local soonest = redis.call('ZRANGE', delayed, 0, 0, 'WITHSCORES')
local dueIn = -1
if soonest[2] then dueIn = math.max(0, tonumber(soonest[2]) - now) end
return { claimed[1], out, dueIn }
`

// Returns 1 when settled, 0 when the entry is no longer this consumer's at this delivery count (lease lost).
const SETTLE = `
local stream, delayed, released, dead = KEYS[1], KEYS[2], KEYS[3], KEYS[4]
local group, consumer, id, count, mode = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), ARGV[5]
local pending = redis.call('XPENDING', stream, group, id, id, 1)[1]
if not pending or pending[2] ~= consumer or pending[4] ~= count then return 0 end
if mode == 'working' then
  redis.call('XCLAIM', stream, group, consumer, 0, id, 'JUSTID')
elseif mode == 'retry' or mode == 'release' then
  local delay, lease = tonumber(ARGV[6]), tonumber(ARGV[7])
  if mode == 'release' then redis.call('HINCRBY', released, id, 1) end
  if delay > 0 then
    local time = redis.call('TIME')
    redis.call('ZADD', delayed, tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000) + delay, id)
  end
  redis.call('XCLAIM', stream, group, consumer, 0, id, 'IDLE', math.max(0, lease - delay), 'JUSTID')
else
  if mode == 'dead' then
    local entry = redis.call('XRANGE', stream, id, id)[1]
    local copy = { 'x-roost-dead-id', id, 'x-roost-dead-group', group, 'x-roost-dead-reason', ARGV[6] }
    -- unpack() is bounded by Lua's C stack: an entry with thousands of fields is noted, not copied.
    if entry and #entry[2] <= 7000 then
      for _, value in ipairs(entry[2]) do copy[#copy + 1] = value end
    elseif entry then
      copy[#copy + 1] = 'x-roost-dead-note'
      copy[#copy + 1] = 'the entry has too many fields to copy'
    end
    redis.call('XADD', dead, '*', unpack(copy))
  end
  redis.call('XACK', stream, group, id)
  redis.call('HDEL', released, id)
end
return 1
`

// SETTLE's ack for many entries at once (the acknowledgements of one delivered batch): one round trip, one script.
// ARGV: group, consumer, the least and the greatest id, then either the delivery count every entry was fetched
// with followed by the ids in stream order (a batch as it was fetched, nearly always), or 0 followed by id and
// delivery count pairs in any order.
// The first kind is usually exactly this consumer's pending entries from the least id to the greatest: one XPENDING
// reads them, and when they are the ids at the count, one XACK takes them all and the answer is their number. A
// script's cost is mostly its Lua values, and this path makes none per entry beyond XPENDING's reply.
// Otherwise each entry is checked on its own, and the answer is a 1 or a 0 per entry.
const ACK_MANY = `
local stream, released = KEYS[1], KEYS[2]
local group, consumer, first, last = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local uniform = tonumber(ARGV[5])
local step = 2
if uniform > 0 then step = 1 end
local n = (#ARGV - 5) / step
local pending = redis.call('XPENDING', stream, group, first, last, n, consumer)
if uniform > 0 and #pending == n then
  local whole = true
  for i = 1, n do
    local p = pending[i]
    if p[1] ~= ARGV[i + 5] or p[4] ~= uniform then
      whole = false
      break
    end
  end
  -- unpack() is bounded by Lua's C stack (8000): the client sends at most 1000 ids.
  if whole then
    redis.call('XACK', stream, group, unpack(ARGV, 6))
    if redis.call('EXISTS', released) == 1 then redis.call('HDEL', released, unpack(ARGV, 6)) end
    return n
  end
end
local held = {}
for _, p in ipairs(pending) do held[p[1]] = p[4] end
local done, acked = {}, {}
for i = 6, #ARGV, step do
  local id = ARGV[i]
  local expected = uniform
  if step == 2 then expected = tonumber(ARGV[i + 1]) end
  local count = held[id]
  if count == nil then
    local p = redis.call('XPENDING', stream, group, id, id, 1)[1]
    if p and p[2] == consumer then count = p[4] end
  end
  if count == expected then
    acked[#acked + 1] = id
    done[#done + 1] = 1
  else
    done[#done + 1] = 0
  end
end
-- One XACK and one HDEL for the whole batch, in slices that unpack() can take.
for at = 1, #acked, 500 do
  local slice = { unpack(acked, at, math.min(at + 499, #acked)) }
  redis.call('XACK', stream, group, unpack(slice))
  redis.call('HDEL', released, unpack(slice))
end
return done
`

// Deletes a consumer once nothing is pending for it, so that consumers of subscriptions that closed do not pile up in the group.
const FORGET_CONSUMER = `
if #redis.call('XPENDING', KEYS[1], ARGV[1], '-', '+', 1, ARGV[2]) == 0 then
  return redis.call('XGROUP', 'DELCONSUMER', KEYS[1], ARGV[1], ARGV[2])
end
return -1
`

// How many entries follow an id, up to a limit: the backlog's waiting part when the server cannot give the group's lag.
const COUNT_AFTER = `
return #redis.call('XRANGE', KEYS[1], '(' .. ARGV[1], '+', 'COUNT', ARGV[2])
`

function rawReply<T> (reply: unknown): T {
  return reply as T
}

export const redisScripts = {
  roostFetch: defineScript({
    SCRIPT: FETCH,
    NUMBER_OF_KEYS: 3,
    /** `claim`: scan the pending entries for ones whose lease ran out (XAUTOCLAIM), or only read new ones. */
    parseCommand (parser: CommandParser, keys: RedisKeys, group: string, consumer: string, leaseMs: number, max: number, cursor: string, claim: boolean) {
      parser.pushKeys([keys.stream, keys.delayed, keys.released])
      parser.push(group, consumer, String(leaseMs), String(max), cursor, claim ? '1' : '0')
    },
    transformReply: rawReply<FetchReply>
  }),
  roostSettle: defineScript({
    SCRIPT: SETTLE,
    NUMBER_OF_KEYS: 4,
    parseCommand (parser: CommandParser, keys: RedisKeys, group: string, consumer: string, entryId: string, deliveryCount: number, mode: SettleMode, ...rest: string[]) {
      parser.pushKeys([keys.stream, keys.delayed, keys.released, keys.dead])
      parser.push(group, consumer, entryId, String(deliveryCount), mode, ...rest)
    },
    transformReply: rawReply<number>
  }),
  roostAckMany: defineScript({
    SCRIPT: ACK_MANY,
    NUMBER_OF_KEYS: 2,
    /**
     * `count` > 0: every entry was fetched at that delivery count and `entries` are their ids in stream order;
     * `count` 0: `entries` are entry id and delivery count, one after the other. `first` and `last`: the least and
     * the greatest of the ids. Answers how many were acknowledged when that was all of them, a 1 or a 0 per entry otherwise.
     */
    parseCommand (parser: CommandParser, keys: RedisKeys, group: string, consumer: string, first: string, last: string, count: number, entries: readonly string[]) {
      parser.pushKeys([keys.stream, keys.released])
      parser.push(group, consumer, first, last, String(count), ...entries)
    },
    transformReply: rawReply<number | number[]>
  }),
  roostForgetConsumer: defineScript({
    SCRIPT: FORGET_CONSUMER,
    NUMBER_OF_KEYS: 1,
    parseCommand (parser: CommandParser, stream: string, group: string, consumer: string) {
      parser.pushKey(stream)
      parser.push(group, consumer)
    },
    transformReply: rawReply<number>
  }),
  roostCountAfter: defineScript({
    SCRIPT: COUNT_AFTER,
    NUMBER_OF_KEYS: 1,
    IS_READ_ONLY: true,
    parseCommand (parser: CommandParser, stream: string, afterId: string, limit: number) {
      parser.pushKey(stream)
      parser.push(afterId, String(limit))
    },
    transformReply: rawReply<number>
  })
}
