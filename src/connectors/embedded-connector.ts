// The embedded queue behind the connector interface: the platform's own
// EventStore (in this process), or one opened from an events.db path (a
// consumer in another process, such as the contract's kill -9 child). There
// is no connection to lose: the state is connected from connect() to close().
import { basename, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { FieldProblem } from '../errors/index.js'
import { BrokerMissingError, BrokerUnavailableError, ValidationError } from '../errors/index.js'
import type { NewRecord } from '../events/index.js'
import { EventStore, EVENTS_DATABASE_FILE } from '../events/index.js'
import type { Capabilities, Connector, ConnectorState, OutgoingMessage, QueueBinding, Subscription } from './connector.js'
import { EmbeddedSubscription } from './embedded-subscription.js'
import { embeddedQueueKey, wakeupsOf } from './embedded-wakeups.js'

export const EMBEDDED_SERVER = 'roost embedded'
const MAX_LEASE_MS = 24 * 3600_000

export interface EmbeddedConnectorOptions {
  /** The platform's store; the connector opens and closes nothing. */
  events?: EventStore
  /** Without `events`: an events.db (or the folder holding it), opened on connect and closed with the connector. */
  path?: string
  /** The consumer's name in the records' attempt history. */
  clientName?: string
}

export class EmbeddedConnector implements Connector {
  readonly kind = 'embedded'
  private events: EventStore | undefined
  private readonly ownsStore: boolean
  private readonly folder: string | undefined
  private readonly clientName: string
  private readonly listeners: Array<(state: ConnectorState) => void> = []
  private readonly subscriptions = new Set<EmbeddedSubscription>()
  private state: 'new' | 'connected' | 'closed' = 'new'

  constructor (options: EmbeddedConnectorOptions) {
    this.events = options.events
    this.ownsStore = options.events === undefined
    this.clientName = options.clientName ?? `roost-${process.pid}`
    if (options.events === undefined) {
      if (options.path === undefined || options.path === '') {
        throw new ValidationError([{ field: 'url', message: 'the embedded connector needs the platform\'s event store, or the path of an events.db' }])
      }
      this.folder = storeFolder(options.path)
    }
  }

  async connect (): Promise<Capabilities> {
    this.store()
    if (this.state === 'new') {
      this.state = 'connected'
      this.emit({ state: 'connected', server: EMBEDDED_SERVER })
    }
    return { server: EMBEDDED_SERVER, warnings: [] }
  }

  async subscribe (binding: QueueBinding): Promise<Subscription> {
    checkBinding(binding)
    const events = this.store()
    ensureQueue(events, binding)
    const subscription: EmbeddedSubscription = new EmbeddedSubscription(events, wakeupsOf(events), binding, this.clientName,
      () => this.subscriptions.delete(subscription))
    this.subscriptions.add(subscription)
    return subscription
  }

  async publish (binding: QueueBinding, messages: readonly OutgoingMessage[]): Promise<void> {
    if (messages.length === 0) return
    const events = this.store()
    ensureQueue(events, binding)
    events.publish(binding.namespace, binding.queue, messages.map(newRecord))
    wakeupsOf(events).wake(embeddedQueueKey(binding.namespace, binding.queue))
  }

  onState (listener: (state: ConnectorState) => void): void {
    this.listeners.push(listener)
  }

  async close (): Promise<void> {
    if (this.state === 'closed') return
    this.state = 'closed'
    for (const subscription of [...this.subscriptions]) await subscription.close()
    if (this.ownsStore) this.events?.close()
    this.emit({ state: 'closed' })
  }

  private store (): EventStore {
    if (this.state === 'closed') throw new BrokerUnavailableError('this embedded connector is closed')
    if (this.events === undefined) this.events = openStore(this.folder as string)
    if (!this.events.isOpen) throw new BrokerUnavailableError('the embedded queue\'s event store is closed', { hint: 'the platform is stopping' })
    return this.events
  }

  private emit (state: ConnectorState): void {
    for (const listener of this.listeners) listener(state)
  }
}

function openStore (folder: string): EventStore {
  try {
    return EventStore.open(folder)
  } catch (error) {
    throw new BrokerUnavailableError(`cannot open the embedded queue at ${folder}: ${error instanceof Error ? error.message : String(error)}`, {
      cause: error,
      hint: 'the url of an embedded connector is the path of the platform\'s events.db'
    })
  }
}

/** `…/events.db`, `file:…/events.db` or the folder that holds it. */
function storeFolder (path: string): string {
  const local = path.startsWith('file:') ? fileURLToPath(path) : path
  return basename(local) === EVENTS_DATABASE_FILE ? dirname(local) : local
}

/**
 * A queue is there when this process declared it (a queue trigger) or it
 * holds records (another process declared it). Otherwise it is declared here
 * when the binding asks, with the binding's attempts; a declared queue keeps
 * the policy its trigger gave it.
 */
function ensureQueue (events: EventStore, binding: QueueBinding): void {
  const { namespace, queue } = binding
  if (events.queuePolicy(namespace, queue) !== undefined) return
  const stats = events.stats(namespace, queue)
  const hasRecords = stats.waiting + stats.leased + stats.dead > 0 || stats.lastCompletedAt !== undefined
  if (!binding.create && !hasRecords) {
    throw new BrokerMissingError(`there is no embedded queue ${queue} in namespace ${namespace}`, {
      field: 'queue',
      hint: 'a queue is there once a function declares it in spec.triggers, or when the trigger asks to create it'
    })
  }
  events.declareQueue(namespace, queue, { maxAttempts: binding.maxAttempts })
}

function checkBinding (binding: QueueBinding): void {
  const problems: FieldProblem[] = []
  if (binding.connector !== 'embedded') problems.push({ field: 'connector', message: `an embedded connector serves embedded queues, not ${binding.connector}` })
  if (!Number.isSafeInteger(binding.maxAttempts) || binding.maxAttempts < 1) {
    problems.push({ field: 'maxAttempts', message: `maxAttempts is a whole number of at least 1, got ${String(binding.maxAttempts)}` })
  }
  if (!Number.isSafeInteger(binding.leaseMs) || binding.leaseMs < 1 || binding.leaseMs > MAX_LEASE_MS) {
    problems.push({ field: 'leaseMs', message: `a lease is 1 ms to ${MAX_LEASE_MS} ms, got ${String(binding.leaseMs)}` })
  }
  if (problems.length > 0) throw new ValidationError(problems)
}

function newRecord (message: OutgoingMessage): NewRecord {
  return {
    id: message.id,
    body: message.body,
    bodyType: message.bodyType,
    source: message.source,
    type: message.type,
    subject: message.subject,
    contentType: message.contentType,
    attributes: message.attributes
  }
}
