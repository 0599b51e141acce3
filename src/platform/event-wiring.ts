// The consumption side of events wired into the platform: the trigger
// controller (stored functions → declared queues, consumers, cron triggers),
// the dispatcher delivering through the gateway, the cron scheduler, and what
// they tell the autoscaler (activation on enqueue, the backlog each second).
import type { Logger } from 'pino'
import type { QueueReport } from '../autoscaler/index.js'
import { storeSecrets } from '../api/index.js'
import { BrokerTriggers, CronScheduler, Dispatcher, functionKey, queueLoads, TriggerController } from '../dispatch/index.js'
import type { BrokerTriggerStatus, DeliveryFunction } from '../dispatch/index.js'
import type { EventStore } from '../events/index.js'
import type { InstanceInfo } from '../instances/index.js'
import { versionKey } from '../instances/index.js'
import type { Store } from '../store/index.js'

export interface EventWiringDeps {
  store: Store
  events: EventStore
  /** Hands a delivery to the gateway (its channel in this process), answered whole. */
  deliver: DeliveryFunction
  /** The run's event secret: deliveries carry it, the gateway checks it. */
  eventToken: string
  /** A version with no instance has work waiting: start one now (the autoscaler's activate). */
  activate: (versionKey: string) => void
  /** The traffic routed now for a function (which versions take its deliveries). */
  serving: (namespace: string, name: string) => ReadonlyArray<{ version: number, percent: number }> | undefined
  /** An async invocation record ended: waiting callers and its callback are told. */
  invocationSettled: (id: string) => void
  recordEvent: (namespace: string, name: string, type: 'Normal' | 'Warning', reason: string, message: string) => void
  logger: Logger
}

/** One consumed queue's numbers for the metrics: its backlog, and for a broker trigger whether its broker is up. */
export interface QueueGauge {
  namespace: string
  queue: string
  connector: string
  /** Undefined for the embedded queue: it has no connection to lose. */
  up: boolean | undefined
  backlog: number
}

/** How long deliveries in flight get to finish when the platform stops; the rest are released without an attempt. */
const STOP_GRACE_MS = 3000

export class EventWiring {
  readonly dispatcher: Dispatcher
  readonly scheduler: CronScheduler
  readonly brokers: BrokerTriggers
  private readonly triggers: TriggerController
  private ready = new Map<string, number>()

  constructor (private readonly deps: EventWiringDeps) {
    const { events, logger } = deps
    this.dispatcher = new Dispatcher({
      events,
      deliver: deps.deliver,
      eventToken: deps.eventToken,
      hooks: {
        onDemand: (namespace, fn) => {
          for (const share of deps.serving(namespace, fn) ?? []) if (share.percent > 0) deps.activate(versionKey(namespace, fn, share.version))
        },
        onSettled: (consumer, settlements, states) => {
          if (consumer.event !== 'invocation') return
          settlements.forEach((settlement, i) => {
            if (states[i] === 'succeeded' || states[i] === 'dead' || states[i] === 'cancelled') deps.invocationSettled(settlement.id)
          })
        },
        onError: (consumer, err) => logger.warn({ queue: `${consumer.namespace}/${consumer.queue}`, err: String(err) }, 'the dispatcher could not lease or settle; retrying')
      }
    })
    this.scheduler = new CronScheduler({
      events,
      hooks: {
        onFired: (namespace, queue) => this.dispatcher.notify(namespace, queue),
        onReplace: (namespace, queue) => { this.dispatcher.abandon(namespace, queue) },
        onSkipped: (plan, { overlapped, missed }) => {
          const parts = [
            ...(overlapped > 0 ? [`${overlapped} firing${overlapped === 1 ? '' : 's'} skipped: the previous one has not finished (overlap: forbid)`] : []),
            ...(missed > 0 ? [`${missed} time${missed === 1 ? '' : 's'} missed while the platform was down or late, not fired (catchUp: ${plan.catchUp})`] : [])
          ]
          deps.recordEvent(plan.namespace, plan.function, 'Normal', 'FiringsSkipped', `${plan.trigger} (${plan.schedule}): ${parts.join('; ')}`)
        },
        onError: (plan, err) => deps.recordEvent(plan.namespace, plan.function, 'Warning', 'CronFailed', `${plan.trigger} (${plan.schedule}): ${err instanceof Error ? err.message : String(err)}`)
      }
    })
    const activate = (namespace: string, fn: string): void => {
      for (const share of deps.serving(namespace, fn) ?? []) if (share.percent > 0) deps.activate(versionKey(namespace, fn, share.version))
    }
    this.brokers = new BrokerTriggers({
      events,
      deliver: deps.deliver,
      eventToken: deps.eventToken,
      secrets: (namespace) => storeSecrets(deps.store, namespace),
      readyOf: (namespace, fn) => this.ready.get(functionKey(namespace, fn)) ?? 0,
      onDemand: activate,
      onStatus: (status, previous) => this.brokerStatusChanged(status, previous),
      onWarning: (status, warning) => deps.recordEvent(status.namespace, status.function, 'Warning', 'BrokerCapability', `queue ${status.queue} (${status.connector}): ${warning}`),
      onError: (status, during, err) => logger.debug({ queue: `${status.namespace}/${status.queue}`, connector: status.connector, during, err: String(err) }, 'a broker trigger operation failed')
    })
    this.triggers = new TriggerController(deps.store, events, this.dispatcher, this.scheduler, this.brokers)
  }

  /** Declares every stored function's queues (a restart re-declares them all), then delivers and schedules. */
  start (): void {
    this.triggers.start()
    this.dispatcher.start()
    this.scheduler.start()
  }

  /** Declares what the store holds now: an apply's queue takes publishes as soon as the apply answers. */
  reconcile (): void {
    this.triggers.reconcile()
  }

  /** Records were published (API, ctx.publish, an async call, a replay): deliver them now. */
  notify (namespace: string, queue: string): void {
    this.dispatcher.notify(namespace, queue)
  }

  /** The instance set changed: ready instances are the dispatcher's room. */
  instancesChanged (instances: readonly InstanceInfo[]): void {
    const ready = new Map<string, number>()
    for (const instance of instances) {
      if (instance.state !== 'ready') continue
      const key = functionKey(instance.namespace, instance.function)
      ready.set(key, (ready.get(key) ?? 0) + 1)
    }
    const before = this.ready
    this.ready = ready
    this.dispatcher.setReady(ready)
    for (const [key, count] of ready) {
      if (count <= (before.get(key) ?? 0)) continue
      const slash = key.indexOf('/')
      this.brokers.wake(key.slice(0, slash), key.slice(slash + 1))
    }
  }

  /** The backlog of every consumed queue, per serving version: the autoscaler's queue metric. */
  queueReport (at: number): QueueReport {
    const { events } = this.deps
    if (!events.isOpen) return { at, versions: [] }
    const statsOf = (namespace: string, queue: string): ReturnType<EventStore['stats']> => this.brokers.stats(namespace, queue) ?? events.stats(namespace, queue)
    return { at, versions: queueLoads([...this.dispatcher.consumers(), ...this.brokers.consumers()], statsOf, this.deps.serving) }
  }

  /** Every queue a trigger consumes (not the internal ones of cron and async calls), with its backlog and broker state. */
  queueGauges (): QueueGauge[] {
    const { events } = this.deps
    const gauges: QueueGauge[] = []
    if (events.isOpen) {
      for (const c of this.dispatcher.consumers()) {
        if (c.event !== 'queue') continue
        gauges.push({ namespace: c.namespace, queue: c.queue, connector: 'embedded', up: undefined, backlog: events.stats(c.namespace, c.queue).backlog })
      }
    }
    for (const status of this.brokers.statuses()) {
      gauges.push({
        namespace: status.namespace, queue: status.queue, connector: status.connector, up: status.state === 'Connected',
        backlog: this.brokers.stats(status.namespace, status.queue)?.backlog ?? 0
      })
    }
    return gauges
  }

  /** A broker trigger's condition changed: an event on its function (connected again, lost, failed). */
  private brokerStatusChanged (status: BrokerTriggerStatus, previous: string | undefined): void {
    const where = `queue ${status.queue} (${status.connector} ${status.url})`
    if (status.state === 'Connected') {
      this.deps.recordEvent(status.namespace, status.function, 'Normal', 'BrokerConnected', `${where}: ${status.message}`)
    } else if (status.state === 'Disconnected' || status.state === 'Failed') {
      // Once per loss: a broker that stays away does not add an event per reconnect attempt.
      if (previous === status.state) return
      this.deps.recordEvent(status.namespace, status.function, 'Warning', status.state === 'Failed' ? status.reason : 'BrokerDisconnected', `${where}: ${status.message}`)
    }
  }

  /** Stops firing and leasing; deliveries in flight finish or are released (no attempt used). */
  async stop (): Promise<void> {
    this.scheduler.stop()
    this.triggers.stop()
    await Promise.all([this.dispatcher.stop(STOP_GRACE_MS), this.brokers.stop()])
  }
}
