// What the Redis connector needs of its server, checked once at connect from
// INFO: Redis 7.0 or later (XAUTOCLAIM that reports deleted entries, and a
// consumer group's lag in XINFO GROUPS, which the backlog is made of), a
// single server rather than a cluster (the connector's Lua scripts touch a
// stream and its companion keys together), and an eviction policy that cannot
// drop a queue's stream under memory pressure. Pure: it reads INFO's text.
import { BrokerUnsupportedError } from '../errors/index.js'
import type { Capabilities } from './connector.js'

export const MIN_REDIS_VERSION: readonly [number, number] = [7, 0]

/** INFO's `name:value` lines as a record (section headers and blank lines left out). */
export function parseInfo (text: string): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const line of text.split(/\r?\n/)) {
    if (line === '' || line.startsWith('#')) continue
    const colon = line.indexOf(':')
    if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).trim()
  }
  return fields
}

/**
 * The server as Capabilities, from INFO's server and memory sections. Throws
 * BrokerUnsupportedError, naming the version found, when the server is older
 * than Redis 7.0 or is a cluster.
 */
export function redisCapabilities (info: Readonly<Record<string, string>>): Capabilities {
  const version = info.redis_version
  const server = info.valkey_version !== undefined ? `valkey ${info.valkey_version} (redis ${version ?? '?'})` : `redis ${version ?? 'unknown'}`
  if (version === undefined || !atLeast(version, MIN_REDIS_VERSION)) {
    throw new BrokerUnsupportedError(`the Redis connector needs Redis ${MIN_REDIS_VERSION.join('.')} or later; the server is ${server}`, {
      hint: 'it uses XAUTOCLAIM as Redis 7.0 answers it and the consumer-group lag of XINFO GROUPS: upgrade the server'
    })
  }
  if (info.redis_mode === 'cluster') {
    throw new BrokerUnsupportedError(`the Redis connector does not support Redis Cluster (${server})`, {
      hint: 'its scripts touch a stream and its companion keys at once: point the trigger at a standalone server or a primary'
    })
  }
  const warnings: string[] = []
  const policy = info.maxmemory_policy
  if (policy !== undefined && policy !== 'noeviction' && info.maxmemory !== undefined && info.maxmemory !== '0') {
    warnings.push(`maxmemory-policy is ${policy}: under memory pressure Redis may evict a queue's stream and lose its messages; set noeviction`)
  }
  return { server, warnings }
}

function atLeast (version: string, [major, minor]: readonly [number, number]): boolean {
  const match = /^(\d+)\.(\d+)/.exec(version)
  if (match === null) return false
  const found = [Number(match[1]), Number(match[2])] as const
  return found[0] > major || (found[0] === major && found[1] >= minor)
}
