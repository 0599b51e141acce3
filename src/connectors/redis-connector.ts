// Roost's queues on Redis Streams (docs/connectors.md, "Redis Streams"): a
// queue is a stream read through a consumer group, with the group's own
// mechanisms (XREADGROUP, XACK, XPENDING's delivery counts, XAUTOCLAIM for
// entries whose consumer died or whose lease ran out) and a few Lua scripts
// for what a group lacks (redis-scripts.ts: fencing, delayed and uncounted
// redelivery, a dead copy). One shared connection per connector, one more per
// subscription for its blocking reads; node-redis reconnects them, on the
// schedule of reconnect-backoff.ts.
import { hostname } from 'node:os'
import { randomBytes } from 'node:crypto'
import { ErrorReply } from 'redis'
import { BrokerMissingError, BrokerUnavailableError, ValidationError, isRoostError } from '../errors/index.js'
import type {
  Capabilities, Connector, ConnectorState, OutgoingMessage, QueueBinding, Subscription
} from './connector.js'
import { reconnectDelay } from './reconnect-backoff.js'
import { parseInfo, redisCapabilities } from './redis-capabilities.js'
import { createRedisClient, redisAddress, redisFailure } from './redis-client.js'
import type { GroupRef, RedisClient, ReconnectStrategy } from './redis-client.js'
import { entryFields } from './redis-entry.js'
import { redisKeys } from './redis-keys.js'
import { RedisSubscription } from './redis-subscription.js'
import { FirstConnect } from './first-connect.js'

export interface RedisConnectorOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. */
  url: string
  /** How this process appears on the server: the connection's CLIENT SETNAME and the start of each consumer's name. */
  clientName?: string
  /** For the reconnect backoff's jitter. */
  random?: () => number
}

/** Consumers that hold nothing and did nothing for this long are removed from a group when a subscription starts (their process is gone). */
const STALE_CONSUMER_MS = 3_600_000

export class RedisConnector implements Connector {
  readonly kind = 'redis' as const
  private readonly url: string
  private readonly address: string
  private readonly clientName: string
  private readonly random: () => number
  private readonly listeners: Array<(state: ConnectorState) => void> = []
  private readonly subscriptions = new Set<RedisSubscription>()
  private client: RedisClient | undefined
  private readonly connecting = new FirstConnect<Capabilities>(async () => await this.open())
  private capabilities: Capabilities | undefined
  private connected = false
  private closed = false

  constructor (options: RedisConnectorOptions) {
    this.url = options.url
    this.address = redisAddress(options.url)
    this.clientName = options.clientName ?? `roost-${hostname()}-${process.pid}`
    this.random = options.random ?? Math.random
  }

  connect (): Promise<Capabilities> {
    if (this.closed) return Promise.reject(new BrokerUnavailableError(`the connector to ${this.address} is closed`))
    return this.connecting.get()
  }

  async subscribe (binding: QueueBinding): Promise<Subscription> {
    const client = await this.ready()
    const ref = groupRef(binding)
    await (binding.create ? this.createGroup(client, ref) : this.requireGroup(client, ref))
    await this.forgetStaleConsumers(client, ref)
    const consumer = `${this.clientName}-${randomBytes(4).toString('hex')}`
    const reader = await this.openReader()
    const subscription = new RedisSubscription({
      keys: redisKeys(ref.stream, ref.group),
      group: ref.group,
      consumer,
      leaseMs: Math.max(1, Math.round(binding.leaseMs)),
      address: this.address,
      client,
      reader,
      closed: (closed) => this.subscriptions.delete(closed)
    })
    this.subscriptions.add(subscription)
    return subscription
  }

  async publish (binding: QueueBinding, messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return
    const stream = requireName(binding.stream, 'stream')
    // Every entry is laid out before any is sent, so attributes no header can carry fail the whole publish.
    const entries = messages.map(entryFields)
    const client = await this.ready()
    // One MULTI: the batch is in the stream whole or not at all. Without create, NOMKSTREAM keeps XADD from making a stream the trigger says must exist.
    const multi = client.multi()
    for (const fields of entries) {
      if (binding.create) multi.xAdd(stream, '*', fields)
      else multi.xAddNoMkStream(stream, '*', fields)
    }
    let ids: unknown[]
    try {
      ids = await multi.exec()
    } catch (err) {
      throw redisFailure(err, this.address)
    }
    if (ids.some((id) => id === null)) {
      throw new BrokerMissingError(`Redis stream ${JSON.stringify(stream)} does not exist on ${this.address}`, {
        field: 'stream',
        hint: 'create the stream (XGROUP CREATE … MKSTREAM), or let the trigger create it (create: true)'
      })
    }
  }

  onState (listener: (state: ConnectorState) => void): void {
    this.listeners.push(listener)
  }

  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    await Promise.all([...this.subscriptions].map((subscription) => subscription.close()))
    const client = this.client
    this.client = undefined
    if (client !== undefined) {
      if (client.isReady) await client.close().catch(() => client.destroy())
      else client.destroy()
    }
    this.connected = false
    this.emit({ state: 'closed' })
  }

  private async open (): Promise<Capabilities> {
    let everReady = false
    const client = createRedisClient({
      url: this.url,
      name: this.clientName,
      reconnect: (retries, cause) => {
        // A first connect that fails is the caller's to retry (connect() rejects); a connection lost later is retried here.
        if (this.closed || !everReady) return false
        const retryInMs = reconnectDelay(retries, this.random)
        this.connected = false
        this.emit({ state: 'disconnected', reason: describe(cause), retryInMs })
        return retryInMs
      }
    })
    client.on('ready', () => {
      if (!everReady || this.capabilities === undefined || this.connected) return
      this.connected = true
      this.emit({ state: 'connected', server: this.capabilities.server })
    })
    try {
      await client.connect()
      everReady = true
      const info = parseInfo(`${await client.info('server')}\n${await client.info('memory')}`)
      this.capabilities = redisCapabilities(info)
    } catch (err) {
      client.destroy()
      if (isRoostError(err)) throw err
      throw new BrokerUnavailableError(`cannot connect to Redis at ${this.address}: ${describe(err)}`, {
        hint: 'check that the server runs and that the trigger\'s url (host, port, credentials) is right',
        cause: err
      })
    }
    if (this.closed) {
      client.destroy()
      throw new BrokerUnavailableError(`the connector to ${this.address} is closed`)
    }
    this.client = client
    this.connected = true
    this.emit({ state: 'connected', server: this.capabilities.server })
    return this.capabilities
  }

  /** The shared client, connecting first when it has not; rejects with BrokerUnavailableError while the server is away. */
  private async ready (): Promise<RedisClient> {
    await this.connect()
    const client = this.client
    if (client === undefined || !client.isReady) {
      throw new BrokerUnavailableError(`Redis at ${this.address} is unavailable: the connection is down and being retried`, {
        hint: 'the connector reconnects by itself with backoff'
      })
    }
    return client
  }

  // A subscription's own connection for blocking reads: reconnected on the same schedule, reported through the shared one.
  private async openReader (): Promise<RedisClient> {
    let everReady = false
    const reconnect: ReconnectStrategy = (retries) => (this.closed || !everReady ? false : reconnectDelay(retries, this.random))
    const reader = createRedisClient({ url: this.url, name: `${this.clientName}-reader`, reconnect })
    try {
      await reader.connect()
      everReady = true
      return reader
    } catch (err) {
      reader.destroy()
      throw redisFailure(err, this.address)
    }
  }

  // The group starts at the stream's first entry: what was published before the trigger existed is the queue's too.
  private async createGroup (client: RedisClient, ref: GroupRef): Promise<void> {
    try {
      await client.xGroupCreate(ref.stream, ref.group, '0', { MKSTREAM: true })
    } catch (err) {
      if (err instanceof ErrorReply && err.message.startsWith('BUSYGROUP')) return
      throw redisFailure(err, this.address, ref)
    }
  }

  private async requireGroup (client: RedisClient, ref: GroupRef): Promise<void> {
    let groups
    try {
      groups = await client.xInfoGroups(ref.stream)
    } catch (err) {
      if (err instanceof ErrorReply && /no such key/i.test(err.message)) {
        throw new BrokerMissingError(`Redis stream ${JSON.stringify(ref.stream)} does not exist on ${this.address}`, {
          field: 'stream',
          hint: `create it with its group (XGROUP CREATE ${ref.stream} ${ref.group} 0 MKSTREAM), or let the trigger create it (create: true)`
        })
      }
      throw redisFailure(err, this.address, ref)
    }
    if (!groups.some((group) => String(group.name) === ref.group)) {
      throw new BrokerMissingError(`Redis stream ${JSON.stringify(ref.stream)} has no consumer group ${JSON.stringify(ref.group)} on ${this.address}`, {
        field: 'group',
        hint: `create it (XGROUP CREATE ${ref.stream} ${ref.group} 0), or let the trigger create it (create: true)`
      })
    }
  }

  // Every subscription is a consumer of its own name; those of processes that ended would otherwise stay in the group for good.
  private async forgetStaleConsumers (client: RedisClient, ref: GroupRef): Promise<void> {
    try {
      const consumers = await client.xInfoConsumers(ref.stream, ref.group)
      const stale = consumers.filter((consumer) => Number(consumer.pending) === 0 && Number(consumer.idle) > STALE_CONSUMER_MS)
      for (const consumer of stale) await client.roostForgetConsumer(ref.stream, ref.group, String(consumer.name))
    } catch {
      // Tidying only: a subscription works without it.
    }
  }

  private emit (state: ConnectorState): void {
    for (const listener of this.listeners) {
      try {
        listener(state)
      } catch {
        // A listener's failure is its own; the connection goes on.
      }
    }
  }
}

function groupRef (binding: QueueBinding): GroupRef {
  return { stream: requireName(binding.stream, 'stream'), group: requireName(binding.group, 'group') }
}

function requireName (value: string | undefined, field: 'stream' | 'group'): string {
  if (value === undefined || value === '') {
    throw new ValidationError([{ field, message: `a Redis queue trigger names its ${field}` }], {
      hint: 'queue: { connector: redis, url: redis://…, stream: orders, group: fulfil }'
    })
  }
  return value
}

function describe (err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return describe(err.errors[0])
  if (err instanceof Error) return err.message === '' ? err.name : err.message
  return String(err)
}
