// XREADGROUP's reply in each of the shapes the Redis client gives it.
/** One stream's entries as XREADGROUP answers them: `[id, [field, value, …]]`. */
export type StreamEntries = Array<[Buffer, Buffer[]]>

/**
 * XREADGROUP's reply: null when the block ran out; else, per stream read, its
 * entries — as `[[name, entries]]` over RESP2, and as a map keyed by the stream's
 * name over RESP3 (which node-redis 6 gives as a plain object, or a Map with a type mapping).
 */
export type XReadGroupReply = null | Array<[Buffer, StreamEntries]> | Record<string, StreamEntries> | Map<unknown, StreamEntries>

/** The entries of the one stream a read asked for, whichever shape the reply has. */
export function streamEntries (reply: XReadGroupReply): StreamEntries {
  if (reply === null) return []
  if (Array.isArray(reply)) return reply[0]?.[1] ?? []
  if (reply instanceof Map) return reply.values().next().value ?? []
  for (const key in reply) return reply[key] as StreamEntries
  return []
}
