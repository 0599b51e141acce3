// The broker-backed queue triggers of the platform: per trigger a
// subscription and its consumer loop (broker-consumer.ts), on connectors
// shared by every trigger with the same URL and credentials. It follows the
// plan level-triggered (a trigger whose broker settings did not change keeps
// its subscription across applies), keeps each trigger's condition from its
// connector's state, and samples each backlog for the autoscaler.
import { createHash, randomBytes } from 'node:crypto'
import { brokerUrl, redactedUrl, type BrokerQueues, type BrokerTriggerState, type BrokerTriggerStatus, type SecretLookup } from '../api/index.js'
import type { Backlog, Capabilities, Connector, ConnectorKind, ConnectorOptions, ConnectorState, OutgoingMessage, QueueBinding } from '../connectors/index.js'
import { createConnector } from '../connectors/index.js'
import { BrokerUnavailableError, isRoostError } from '../errors/index.js'
import type { DeadCopy, EventStore, NewRecord, PublishResult, QueueStats } from '../events/index.js'
import { outgoingMessages } from './broker-publish.js'
import { BrokerConsumer } from './broker-consumer.js'
import type { BrokerConsumerPlan, DeliveryFunction } from './consumer.js'
import { queueKey } from './consumer.js'

export type { BrokerTriggerState, BrokerTriggerStatus } from '../api/index.js'

export interface BrokerTriggersDeps {
  events: EventStore
  deliver: DeliveryFunction
  eventToken: string
  secrets: (namespace: string) => SecretLookup
  readyOf: (namespace: string, fn: string) => number
  onDemand: (namespace: string, fn: string) => void
  /** A trigger's state changed (or a capability warning came): for its event, condition and metric. */
  onStatus?: (status: BrokerTriggerStatus, previous: BrokerTriggerState | undefined) => void
  onWarning?: (status: BrokerTriggerStatus, warning: string) => void
  onError?: (status: BrokerTriggerStatus, during: string, err: unknown) => void
  /** How this process appears on brokers; `roost-<pid>` by default. */
  clientName?: string
  connect?: (options: ConnectorOptions) => Connector
}

/** The backlog of each trigger is sampled this often: the autoscaler reads it about once a second. */
const BACKLOG_SAMPLE_MS = 1000
/** A trigger that could not start (broker away at first, a missing stream, a missing secret) tries again this much later, doubling to the max. */
const RESTART_MIN_MS = 500
const RESTART_MAX_MS = 10_000
/** A publish to a trigger still connecting waits this long for its broker before it is refused. */
const PUBLISH_CONNECT_WAIT_MS = 5000
/** Deliveries of a trigger that goes away get this long to end; the rest are released (no attempt used). */
const STOP_GRACE_MS = 3000

class SharedConnector {
  users = 0
  state: ConnectorState | undefined
  capabilities: Capabilities | undefined
  private connecting: Promise<Capabilities> | null = null
  readonly listeners = new Set<(state: ConnectorState) => void>()

  constructor (readonly key: string, readonly connector: Connector) {
    connector.onState((state) => {
      this.state = state
      for (const listener of this.listeners) listener(state)
    })
  }

  /** Connects once; a failed connect is tried again by the next caller. */
  connect (): Promise<Capabilities> {
    this.connecting ??= this.connector.connect().then((caps) => {
      this.capabilities = caps
      return caps
    }, (err: unknown) => {
      this.connecting = null
      throw err
    })
    return this.connecting
  }
}

class TriggerEntry {
  consumer: BrokerConsumer | null = null
  shared: SharedConnector | null = null
  stopped = false
  restartMs = RESTART_MIN_MS
  timer: NodeJS.Timeout | null = null
  sampler: NodeJS.Timeout | null = null
  listener: ((state: ConnectorState) => void) | null = null
  /** The URL dialled, credentials included: never shown (see setState). */
  dialUrl: string | undefined
  /** The latest start: connect, then subscribe (which creates the queue); it never rejects. */
  starting: Promise<void> | null = null
  readonly status: BrokerTriggerStatus

  constructor (public plan: BrokerConsumerPlan, readonly signature: string) {
    this.status = {
      namespace: plan.namespace, function: plan.function, queue: plan.queue, connector: plan.broker.connector, url: plan.broker.url,
      state: 'Connecting', reason: 'Connecting', message: `connecting to ${plan.broker.url}`, server: undefined, since: Date.now(), backlog: undefined
    }
  }
}

export class BrokerTriggers implements BrokerQueues {
  private readonly entries = new Map<string, TriggerEntry>()
  private readonly connectors = new Map<string, SharedConnector>()
  private readonly clientName: string
  private readonly connect: (options: ConnectorOptions) => Connector
  private readonly stopping = new Set<Promise<void>>()
  private running = true

  constructor (private readonly deps: BrokerTriggersDeps) {
    this.clientName = deps.clientName ?? `roost-${process.pid}`
    this.connect = deps.connect ?? createConnector
  }

  /**
   * The broker triggers to run, replacing the previous set. One whose broker
   * settings (and credentials) are unchanged keeps its subscription and takes
   * the new numbers; others are closed (messages in flight released) and opened anew.
   */
  setConsumers (plans: readonly BrokerConsumerPlan[]): void {
    if (!this.running) return
    const keep = new Set<string>()
    for (const plan of plans) {
      const key = queueKey(plan.namespace, plan.queue)
      keep.add(key)
      const url = brokerUrl(plan.broker.url, plan.broker.secret, this.deps.secrets(plan.namespace))
      const signature = signatureOf(plan, url)
      const entry = this.entries.get(key)
      if (entry !== undefined && entry.signature === signature) {
        entry.plan = plan
        if (entry.consumer !== null) entry.consumer.plan = plan
        entry.status.function = plan.function
        continue
      }
      if (entry !== undefined) this.retire(entry)
      const fresh = new TriggerEntry(plan, signature)
      this.entries.set(key, fresh)
      if (url === undefined) this.fail(fresh, 'SecretMissing', `secret ${String(plan.broker.secret)} (auth.secret) is gone or has no password or token: create it again`)
      else fresh.starting = this.start(fresh, url)
    }
    for (const [key, entry] of this.entries) if (!keep.has(key)) this.retire(entry)
  }

  /** Every trigger's status, for `describe`, `get triggers` and conditions. */
  statuses (): BrokerTriggerStatus[] {
    return [...this.entries.values()].map((e) => ({ ...e.status }))
  }

  status (namespace: string, queue: string): BrokerTriggerStatus | undefined {
    const entry = this.entries.get(queueKey(namespace, queue))
    return entry === undefined ? undefined : { ...entry.status }
  }

  /** The broker triggers, for the autoscaler's queue loads. */
  consumers (): Array<{ namespace: string, queue: string, function: string }> {
    return [...this.entries.values()].map((e) => ({ namespace: e.plan.namespace, queue: e.plan.queue, function: e.plan.function }))
  }

  /**
   * The broker's backlog of the queue as the autoscaler reads it: waiting +
   * in flight, and never less than what this platform holds now, so that a
   * scale-down cannot stop an instance with messages of it.
   */
  stats (namespace: string, queue: string): QueueStats | undefined {
    const entry = this.entries.get(queueKey(namespace, queue))
    if (entry === undefined) return undefined
    const held = entry.consumer?.held ?? 0
    const waiting = entry.status.backlog?.waiting ?? 0
    const leased = Math.max(held, entry.status.backlog?.inFlight ?? 0)
    return { namespace, queue, waiting, leased, backlog: waiting + leased, dead: 0, lastCompletedAt: entry.consumer?.lastCompletedAt }
  }

  /** More ready instances of a function: its triggers look for room again. */
  wake (namespace: string, fn: string): void {
    for (const entry of this.entries.values()) if (entry.plan.namespace === namespace && entry.plan.function === fn) entry.consumer?.wake()
  }

  isBrokerQueue (namespace: string, queue: string): boolean {
    return this.entries.has(queueKey(namespace, queue))
  }

  /**
   * Publishes to a broker trigger's queue (ctx.publish, `roost publish`, a
   * dlq replay); resolves once the broker has them. Rejects with
   * BrokerUnavailableError (503, Retry-After) while the broker is away.
   */
  async publish (namespace: string, queue: string, messages: readonly OutgoingMessage[]): Promise<void> {
    const entry = this.entries.get(queueKey(namespace, queue))
    if (entry === undefined) throw new BrokerUnavailableError(`queue ${namespace}/${queue} is not a broker trigger's`)
    const shared = entry.shared
    // Just applied: the first start is under way; a publish waits a little for it (the connect, and the subscribe
    // that creates the queue: a quorum queue takes RabbitMQ a while) rather than failing at once.
    if (shared !== null && entry.status.state === 'Connecting' && entry.starting !== null) await Promise.race([entry.starting, delay(PUBLISH_CONNECT_WAIT_MS)])
    if (shared === null || entry.status.state !== 'Connected') {
      throw new BrokerUnavailableError(`the ${entry.plan.broker.connector} broker of queue ${namespace}/${queue} is not reachable now: ${entry.status.message}`, {
        hint: 'try again after the Retry-After delay; `roost describe function` shows the trigger\'s condition'
      })
    }
    await shared.connector.publish(bindingOf(entry.plan, ''), messages)
  }

  async publishRecords (namespace: string, queue: string, records: readonly NewRecord[]): Promise<PublishResult[]> {
    const messages = outgoingMessages(namespace, queue, records)
    await this.publish(namespace, queue, messages)
    return messages.map((m) => ({ id: m.id, outcome: 'created' }))
  }

  /** Closes every subscription (messages in flight released after a grace) and every connector. */
  async stop (): Promise<void> {
    this.running = false
    for (const entry of this.entries.values()) this.retire(entry)
    while (this.stopping.size > 0) await Promise.all([...this.stopping])
  }

  // ---- lifecycle of one trigger

  private async start (entry: TriggerEntry, url: string): Promise<void> {
    const shared = this.acquire(entry.plan.broker.connector, url)
    entry.shared = shared
    entry.dialUrl = url
    entry.listener = (state) => this.connectorChanged(entry, state)
    shared.listeners.add(entry.listener)
    try {
      const caps = await shared.connect()
      if (entry.stopped) return
      const subscription = await shared.connector.subscribe(bindingOf(entry.plan, url))
      if (entry.stopped) {
        await subscription.close()
        return
      }
      for (const warning of caps.warnings) this.deps.onWarning?.({ ...entry.status }, warning)
      entry.consumer = new BrokerConsumer(entry.plan, {
        subscription,
        deliver: this.deps.deliver,
        eventToken: this.deps.eventToken,
        readyOf: () => this.deps.readyOf(entry.plan.namespace, entry.plan.function),
        onDemand: () => this.deps.onDemand(entry.plan.namespace, entry.plan.function),
        keepDead: (copy: DeadCopy) => { if (this.deps.events.isOpen) this.deps.events.keepDead(entry.plan.namespace, entry.plan.queue, copy) },
        undoDead: (id) => { if (this.deps.events.isOpen) this.deps.events.purgeDead(entry.plan.namespace, entry.plan.queue, { ids: [id] }) },
        onError: (during, err) => {
          // The stream or group went away under a running trigger: its condition says so until a fetch works again.
          if (during === 'fetch' && isRoostError(err) && err.code === 'ROOST_E_BROKER_MISSING') this.fail(entry, 'BrokerMissing', err.message)
          this.reportError(entry, during, err)
        },
        onFetched: () => {
          if (entry.status.state === 'Failed' && entry.status.reason === 'BrokerMissing') this.setState(entry, 'Connected', 'Connected', `consuming ${describeTarget(entry.plan)} on ${entry.status.server ?? entry.plan.broker.url}`)
        },
        consumerName: `${this.clientName}-${randomBytes(3).toString('hex')}`
      })
      entry.consumer.start()
      entry.restartMs = RESTART_MIN_MS
      this.setState(entry, 'Connected', 'Connected', `consuming ${describeTarget(entry.plan)} on ${caps.server}`, caps.server)
      this.sample(entry)
    } catch (err) {
      if (entry.stopped) return
      const reason = isRoostError(err) ? reasonOf(err.code) : 'BrokerUnavailable'
      const message = err instanceof Error ? err.message : String(err)
      if (reason === 'BrokerUnavailable') this.setState(entry, 'Disconnected', reason, `${message}; trying again in ${Math.ceil(entry.restartMs / 100) / 10}s`)
      else this.fail(entry, reason, message)
      this.scheduleRestart(entry, url)
    }
  }

  private scheduleRestart (entry: TriggerEntry, url: string): void {
    void this.release(entry)
    entry.timer = setTimeout(() => {
      entry.timer = null
      if (!entry.stopped) entry.starting = this.start(entry, url)
    }, entry.restartMs)
    entry.timer.unref()
    entry.restartMs = Math.min(RESTART_MAX_MS, entry.restartMs * 2)
  }

  private connectorChanged (entry: TriggerEntry, state: ConnectorState): void {
    if (entry.stopped || entry.consumer === null) return
    if (state.state === 'connected') this.setState(entry, 'Connected', 'Connected', `consuming ${describeTarget(entry.plan)} on ${state.server}`, state.server)
    else if (state.state === 'disconnected') this.setState(entry, 'Disconnected', 'BrokerUnavailable', `${state.reason}; trying again in ${Math.ceil(state.retryInMs / 100) / 10}s`)
  }

  private reportError (entry: TriggerEntry, during: string, err: unknown): void {
    this.deps.onError?.({ ...entry.status }, during, withoutCredentials(err instanceof Error ? err.message : String(err), entry.dialUrl))
  }

  private fail (entry: TriggerEntry, reason: string, message: string): void {
    this.setState(entry, 'Failed', reason, message)
  }

  private setState (entry: TriggerEntry, state: BrokerTriggerState, reason: string, message: string, server?: string): void {
    const previous = entry.status.state
    const changed = previous !== state || entry.status.reason !== reason
    entry.status.reason = reason
    entry.status.message = withoutCredentials(message, entry.dialUrl)
    if (server !== undefined) entry.status.server = server
    if (!changed) return
    entry.status.state = state
    entry.status.since = Date.now()
    this.deps.onStatus?.({ ...entry.status }, previous)
  }

  /** The broker's backlog of the trigger, about once a second, while it runs. */
  private sample (entry: TriggerEntry): void {
    const consumer = entry.consumer
    if (entry.stopped || consumer === null) return
    consumer.subscription.backlog().then(
      (backlog) => { entry.status.backlog = backlog },
      // Away: the last sample stays; what this platform holds still counts (stats).
      () => {}
    ).finally(() => {
      if (entry.stopped) return
      entry.sampler = setTimeout(() => this.sample(entry), BACKLOG_SAMPLE_MS)
      entry.sampler.unref()
    })
  }

  private retire (entry: TriggerEntry): void {
    if (entry.stopped) return
    entry.stopped = true
    const key = queueKey(entry.plan.namespace, entry.plan.queue)
    if (this.entries.get(key) === entry) this.entries.delete(key)
    if (entry.timer !== null) clearTimeout(entry.timer)
    if (entry.sampler !== null) clearTimeout(entry.sampler)
    const consumer = entry.consumer
    entry.consumer = null
    const done = (async () => {
      await consumer?.stop(STOP_GRACE_MS)
      await this.release(entry)
    })().catch((err: unknown) => this.reportError(entry, 'stop', err))
    this.stopping.add(done)
    void done.finally(() => this.stopping.delete(done))
  }

  // ---- shared connectors

  private acquire (kind: ConnectorKind, url: string): SharedConnector {
    const key = `${kind} ${url}`
    let shared = this.connectors.get(key)
    if (shared === undefined) {
      shared = new SharedConnector(key, this.connect({ kind, url, clientName: this.clientName }))
      this.connectors.set(key, shared)
    }
    shared.users++
    return shared
  }

  /** The entry no longer uses its connector; the last user closes it. */
  private async release (entry: TriggerEntry): Promise<void> {
    const shared = entry.shared
    if (shared === null) return
    entry.shared = null
    if (entry.listener !== null) shared.listeners.delete(entry.listener)
    entry.listener = null
    shared.users--
    if (shared.users > 0) return
    this.connectors.delete(shared.key)
    await shared.connector.close()
  }
}

/** A client's error may quote the URL it dialled: conditions, events and logs never show its user or password. */
function withoutCredentials (text: string, url: string | undefined): string {
  if (url === undefined) return text
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return text
  }
  if (parsed.username === '' && parsed.password === '') return text
  let out = text.split(url).join(redactedUrl(url))
  for (const secret of [parsed.password, decodeURIComponent(parsed.password), parsed.username, decodeURIComponent(parsed.username)]) {
    if (secret.length >= 3) out = out.split(secret).join('***')
  }
  return out
}

function delay (ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref())
}

/** AMQP's basic.qos takes at most this many. */
const MAX_PREFETCH = 65_535

function bindingOf (plan: BrokerConsumerPlan, url: string): QueueBinding {
  const b = plan.broker
  const binding: QueueBinding = {
    connector: b.connector, namespace: plan.namespace, queue: plan.queue, url, create: b.create, maxAttempts: plan.maxAttempts, leaseMs: plan.leaseMs
  }
  if (b.stream !== undefined) binding.stream = b.stream
  if (b.subject !== undefined) binding.subject = b.subject
  if (b.consumer !== undefined) binding.consumer = b.consumer
  if (b.group !== undefined) binding.group = b.group
  if (b.connector === 'rabbitmq') {
    // Without its own names the broker's queue is Roost's. The broker pushes at most prefetch unacknowledged messages,
    // so by default it is as many as the instances may hold at once: less would starve all but one of them.
    binding.rabbitQueue = b.rabbitQueue ?? plan.queue
    binding.prefetch = rabbitPrefetch(plan)
  }
  return binding
}

/** The trigger's prefetch, or by default as many messages as its instances may hold at once (at least a batch). */
function rabbitPrefetch (plan: BrokerConsumerPlan): number {
  return plan.broker.prefetch ?? Math.min(MAX_PREFETCH, Math.max(plan.batch, plan.maxInFlight))
}

/** What a subscription depends on: a change of any of it (or of the credentials) opens a new one. */
function signatureOf (plan: BrokerConsumerPlan, url: string | undefined): string {
  const credentials = url === undefined ? 'none' : createHash('sha256').update(url).digest('hex')
  return JSON.stringify([plan.broker, plan.maxAttempts, plan.leaseMs, plan.broker.connector === 'rabbitmq' ? rabbitPrefetch(plan) : 0, credentials])
}

function describeTarget (plan: BrokerConsumerPlan): string {
  const b = plan.broker
  switch (b.connector) {
    case 'nats': return `stream ${String(b.stream)} (consumer ${String(b.consumer)})`
    case 'redis': return `stream ${String(b.stream)} (group ${String(b.group)})`
    case 'rabbitmq': return `queue ${b.rabbitQueue ?? plan.queue}`
  }
}

function reasonOf (code: string): string {
  switch (code) {
    case 'ROOST_E_BROKER_MISSING': return 'BrokerMissing'
    case 'ROOST_E_BROKER_UNSUPPORTED': return 'BrokerUnsupported'
    default: return 'BrokerUnavailable'
  }
}
