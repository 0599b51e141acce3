// The node-redis clients the Redis connector works through, made in one
// place: the shared connection (commands, scripts, publishes) and the
// dedicated one each subscription blocks on in XREADGROUP, which would stall
// every other command queued behind it on a shared connection.
import { createClient, ErrorReply, RESP_TYPES } from 'redis'
import type { RedisClientOptions } from 'redis'
import { BrokerMissingError, BrokerUnavailableError, isRoostError } from '../errors/index.js'
import { redisScripts } from './redis-scripts.js'

/** Stream fields are bytes: every bulk string a command answers is a Buffer, never a string decoded as UTF-8. */
export const BUFFER_REPLIES = Object.freeze({ [RESP_TYPES.BLOB_STRING]: Buffer })

/** The decision a reconnect strategy makes: wait so many ms, or stop (false: the client closes and its connect() rejects). */
export type ReconnectStrategy = (retries: number, cause: Error) => number | false

export interface RedisClientSettings {
  url: string
  name: string | undefined
  reconnect: ReconnectStrategy
}

export function createRedisClient (settings: RedisClientSettings) {
  const options: RedisClientOptions = {
    url: settings.url,
    name: settings.name,
    // A command sent while the server is away fails at once rather than waiting in memory: an ack must never be claimed while it is not done.
    disableOfflineQueue: true,
    socket: { connectTimeout: 5_000, reconnectStrategy: settings.reconnect }
  }
  const client = createClient({ ...options, scripts: redisScripts })
  // Lost connections are reported by the reconnect strategy and failed commands by their promises; an 'error' event with no listener would crash the process.
  client.on('error', ignore)
  return client
}

export type RedisClient = ReturnType<typeof createRedisClient>
export type RedisBufferClient = ReturnType<RedisClient['withTypeMapping']>

/** A stream key and group, for errors that name them. */
export interface GroupRef {
  stream: string
  group: string
}

/**
 * The Roost error for a failed command: BrokerMissingError when the group or
 * stream is gone (NOGROUP, no such key), BrokerUnavailableError when the connection is
 * down or the server cannot serve now, and a server's other error replies as
 * they are (they mean a bug, not an outage).
 */
export function redisFailure (err: unknown, where: string, ref?: GroupRef): Error {
  if (isRoostError(err)) return err
  if (err instanceof ErrorReply) {
    if (ref !== undefined && (err.message.startsWith('NOGROUP') || /^ERR no such key/.test(err.message))) return groupGone(ref, where, err)
    if (!/^(LOADING|BUSY|MASTERDOWN|TRYAGAIN|CLUSTERDOWN|READONLY)\b/.test(err.message)) return err
  }
  const reason = err instanceof Error ? err.message : String(err)
  return new BrokerUnavailableError(`Redis at ${where} is unavailable: ${reason}`, {
    hint: 'the connector reconnects by itself with backoff; check that the server runs and is reachable',
    cause: err
  })
}

/** The stream or its group was deleted while a subscription read it. */
export function groupGone (ref: GroupRef, where: string, cause?: unknown): BrokerMissingError {
  return new BrokerMissingError(`Redis stream ${JSON.stringify(ref.stream)} or its consumer group ${JSON.stringify(ref.group)} is gone (${where})`, {
    hint: 'the stream or group was deleted while the trigger consumed it: recreate it, or let the trigger create it (create: true)',
    cause
  })
}

/** `host:port` of a redis:// URL, for messages: never its credentials. */
export function redisAddress (url: string): string {
  try {
    const parsed = new URL(url)
    return `${parsed.protocol}//${parsed.hostname}:${parsed.port === '' ? '6379' : parsed.port}`
  } catch {
    return 'an unparseable Redis URL'
  }
}

function ignore (): void {}
