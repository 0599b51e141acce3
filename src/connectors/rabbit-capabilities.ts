// What the RabbitMQ connector needs of its server, checked once at connect
// from the server properties of the AMQP handshake (product and version):
// quorum queues (3.8+), whose x-delivery-count the attempt is read from and
// whose x-delivery-limit stops a message no handler ever answers for. The
// semantics of both moved between versions, so each difference that changes
// what Roost can promise becomes a warning. Pure: it reads the properties.
import { BrokerUnsupportedError } from '../errors/index.js'
import type { Capabilities } from './connector.js'

export type Version = readonly [number, number, number]

export const MIN_RABBIT_VERSION: Version = [3, 8, 0]
/** At-least-once dead-lettering of quorum queues (x-dead-letter-strategy). */
const AT_LEAST_ONCE_DEAD_LETTERING: Version = [3, 10, 0]
/** From 4.3 a quorum queue counts only the returns it takes for failed deliveries (x-acquired-count has the rest). */
const COUNTS_ONLY_REJECTIONS: Version = [4, 3, 0]

/** What the topology and the attempt count may rely on, beside the Capabilities shown to users. */
export interface RabbitFeatures {
  /** Dead messages are moved to the dead-letter queue at least once (3.10+), not at most once. */
  atLeastOnceDeadLettering: boolean
}

export interface RabbitServer {
  capabilities: Capabilities
  features: RabbitFeatures
}

/** `3.10.8` → [3, 10, 8]; undefined when the text does not start with a version. */
export function parseVersion (text: unknown): Version | undefined {
  if (typeof text !== 'string' && !(text instanceof Uint8Array)) return undefined
  const match = /^v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(String(text instanceof Uint8Array ? Buffer.from(text).toString('utf8') : text).trim())
  if (match === null) return undefined
  return [Number(match[1]), Number(match[2]), Number(match[3] ?? 0)]
}

export function atLeast (version: Version, minimum: Version): boolean {
  for (let i = 0; i < 3; i++) {
    if ((version[i] as number) !== (minimum[i] as number)) return (version[i] as number) > (minimum[i] as number)
  }
  return true
}

/**
 * The server as Capabilities, from the handshake's server properties. Throws
 * BrokerUnsupportedError, naming what was found, for a server that is not
 * RabbitMQ or is older than 3.8 (no quorum queues).
 */
export function rabbitCapabilities (properties: Readonly<Record<string, unknown>> | undefined): RabbitServer {
  const product = String(properties?.product ?? 'unknown')
  const versionText = String(properties?.version ?? 'unknown')
  const server = `${product.toLowerCase() === 'rabbitmq' ? 'rabbitmq' : product} ${versionText}`
  if (product.toLowerCase() !== 'rabbitmq') {
    throw new BrokerUnsupportedError(`the RabbitMQ connector needs a RabbitMQ server; the server is ${server}`, {
      hint: 'it uses quorum queues, x-delivery-count and x-delivery-limit, which are RabbitMQ\'s own: point the trigger at a RabbitMQ server'
    })
  }
  const version = parseVersion(versionText)
  if (version === undefined || !atLeast(version, MIN_RABBIT_VERSION)) {
    throw new BrokerUnsupportedError(`the RabbitMQ connector needs RabbitMQ ${MIN_RABBIT_VERSION.slice(0, 2).join('.')} or later; the server is ${server}`, {
      hint: 'it uses quorum queues (x-queue-type quorum) for their delivery count and limit: upgrade the server'
    })
  }
  const warnings: string[] = []
  const atLeastOnceDeadLettering = atLeast(version, AT_LEAST_ONCE_DEAD_LETTERING)
  if (!atLeastOnceDeadLettering) {
    warnings.push(`RabbitMQ ${versionText} dead-letters at most once (x-dead-letter-strategy needs 3.10): a dead message may be missing from <queue>.dead after a broker failure; Roost's own dead record is kept either way`)
  }
  if (atLeast(version, COUNTS_ONLY_REJECTIONS)) {
    warnings.push(`RabbitMQ ${versionText} counts a quorum queue return in x-delivery-count only when it takes it for a failed delivery (basic.reject, which Roost uses for its counted returns; not a consumer timeout): a message whose consumer died may come back on the same attempt, and x-delivery-limit then never stops it`)
  }
  return { capabilities: { server, warnings }, features: { atLeastOnceDeadLettering } }
}
