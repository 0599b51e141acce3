// Which brokers a namespace's functions may consume from or publish to. A
// broker trigger makes the platform dial the URL it names, from the
// platform's own network: left to any tenant, that is a way into every
// service the platform can reach (another team's Redis, an internal host and
// port). So a namespace token may name only the brokers the operator allowed
// (`roost up --allow-broker URL`); the admin token may name any.
import { ForbiddenError } from '../errors/index.js'

/** The scheme, host and port of a broker URL: what an allowed entry and a trigger's URL are compared on. */
export type BrokerAddress = string

const DEFAULT_PORTS: Record<string, string> = { 'nats:': '4222', 'tls:': '4222', 'redis:': '6379', 'rediss:': '6379', 'amqp:': '5672', 'amqps:': '5671' }

/** `redis://10.0.0.5:6379` of any URL of that broker; undefined for one that does not parse or is of no broker's scheme. */
export function brokerAddress (url: string): BrokerAddress | undefined {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return undefined
  }
  const defaultPort = DEFAULT_PORTS[parsed.protocol]
  if (defaultPort === undefined || parsed.hostname === '') return undefined
  const port = parsed.port !== '' ? parsed.port : defaultPort
  return `${parsed.protocol}//${parsed.hostname.toLowerCase()}:${port}`
}

/** The allowed brokers as given (URLs); throws for an entry that is not one. */
export function brokerAllowlist (urls: readonly string[]): Set<BrokerAddress> {
  const allowed = new Set<BrokerAddress>()
  for (const url of urls) {
    const address = brokerAddress(url)
    if (address === undefined) throw new TypeError(`--allow-broker ${JSON.stringify(url)} is not a URL such as redis://10.0.0.5:6379`)
    allowed.add(address)
  }
  return allowed
}

/** The URLs of a manifest's broker triggers, by their field path; the manifest as sent (validation comes later). */
function triggerUrls (manifest: unknown): Array<{ field: string, url: string }> {
  const triggers = (manifest as { spec?: { triggers?: unknown } } | null)?.spec?.triggers
  if (!Array.isArray(triggers)) return []
  const found: Array<{ field: string, url: string }> = []
  triggers.forEach((trigger: unknown, index) => {
    const queue = (trigger as { queue?: { connector?: unknown, url?: unknown } } | null)?.queue
    if (queue === undefined || queue === null || typeof queue.url !== 'string') return
    if (queue.connector === undefined || queue.connector === 'embedded') return
    found.push({ field: `spec.triggers[${index}].queue.url`, url: queue.url })
  })
  return found
}

/**
 * Refuses (403) a manifest of a namespace token whose broker trigger names a
 * broker the operator did not allow, unless the stored function already has
 * that URL (the admin set it).
 */
export function checkBrokerClaim (manifest: unknown, allowed: ReadonlySet<BrokerAddress>, storedUrls: readonly string[]): void {
  for (const { field, url } of triggerUrls(manifest)) {
    const address = brokerAddress(url)
    if (address === undefined || allowed.has(address) || storedUrls.includes(url)) continue
    throw new ForbiddenError(`a namespace token may not point a trigger at ${address}: the platform dials it from its own network, so only brokers its operator allowed may be named`, {
      field,
      hint: allowed.size === 0
        ? 'ask the platform\'s admin to allow the broker (roost up --allow-broker URL) or to apply the function'
        : `allowed here: ${[...allowed].join(', ')}; ask the platform's admin for another (roost up --allow-broker URL)`
    })
  }
}

/** The broker URLs of a stored function's triggers. */
export function storedBrokerUrls (spec: { triggers?: ReadonlyArray<unknown> } | undefined): string[] {
  return triggerUrls({ spec }).map((t) => t.url)
}
