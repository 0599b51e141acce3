// The keys a Redis queue is made of: the stream the trigger names, and three
// companions beside it that Roost adds because Redis Streams have no delayed
// redelivery, no uncounted redelivery and no dead-letter queue of their own.
// The companions of a group are per group, as the group's pending list is.

export interface RedisKeys {
  /** The stream: the queue's messages, read through the consumer group. */
  stream: string
  /** Sorted set: entry id → the epoch ms (server time) before which a retried or released entry is not delivered again. */
  delayed: string
  /** Hash: entry id → how many deliveries of it were releases, which use no attempt. */
  released: string
  /** Stream: a copy of each dead entry (original fields plus x-roost-dead-*) for Redis-side tools; Roost's own dead record is kept above. */
  dead: string
}

export function redisKeys (stream: string, group: string): RedisKeys {
  return {
    stream,
    delayed: `${stream}:roost:${group}:delayed`,
    released: `${stream}:roost:${group}:released`,
    dead: `${stream}:dead`
  }
}
