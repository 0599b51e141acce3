// The consumption side of events wired into the platform: the trigger
// controller (stored functions → declared queues, consumers, cron triggers),
// the dispatcher delivering through the gateway, the cron scheduler, and what
// they tell the autoscaler (activation on enqueue, the backlog each second).
import type { Logger } from 'pino'
import type { QueueReport } from '../autoscaler/index.js'
import { CronScheduler, Dispatcher, functionKey, GatewayDelivery, queueLoads, TriggerController } from '../dispatch/index.js'
import type { EventStore } from '../events/index.js'
import type { InstanceInfo } from '../instances/index.js'
import { versionKey } from '../instances/index.js'
import type { Store } from '../store/index.js'

export interface EventWiringDeps {
  store: Store
  events: EventStore
  gatewayUrl: string
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

/** How long deliveries in flight get to finish when the platform stops; the rest are released without an attempt. */
const STOP_GRACE_MS = 3000

export class EventWiring {
  readonly dispatcher: Dispatcher
  readonly scheduler: CronScheduler
  private readonly triggers: TriggerController
  private readonly delivery: GatewayDelivery

  constructor (private readonly deps: EventWiringDeps) {
    const { events, logger } = deps
    this.delivery = new GatewayDelivery({ url: deps.gatewayUrl })
    this.dispatcher = new Dispatcher({
      events,
      deliver: this.delivery.deliver,
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
    this.triggers = new TriggerController(deps.store, events, this.dispatcher, this.scheduler)
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
    this.dispatcher.setReady(ready)
  }

  /** The backlog of every consumed queue, per serving version: the autoscaler's queue metric. */
  queueReport (at: number): QueueReport {
    const { events } = this.deps
    if (!events.isOpen) return { at, versions: [] }
    return { at, versions: queueLoads(this.dispatcher.consumers(), (namespace, queue) => events.stats(namespace, queue), this.deps.serving) }
  }

  /** Stops firing and leasing; deliveries in flight finish or are released (no attempt used). */
  async stop (): Promise<void> {
    this.scheduler.stop()
    this.triggers.stop()
    await this.dispatcher.stop(STOP_GRACE_MS)
    await this.delivery.close()
  }
}
