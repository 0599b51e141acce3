// Functions → declared queues, consumers and cron triggers, level-triggered
// on the store's watch like the function controller: every change recomputes
// the whole plan, so an apply, a delete or a restart all reach the same state.
import type { FunctionSpec } from '../api/index.js'
import type { EventStore } from '../events/index.js'
import type { Store } from '../store/index.js'
import type { CronScheduler } from './cron-scheduler.js'
import type { BrokerConsumerPlan } from './consumer.js'
import type { Dispatcher } from './dispatcher.js'
import { queueKey } from './consumer.js'
import { planTriggers } from './trigger-plan.js'

export class TriggerController {
  private declared = new Set<string>()
  private unwatch: (() => void) | null = null
  private scheduled = false
  private stopped = false

  constructor (
    private readonly store: Store,
    private readonly events: EventStore,
    private readonly dispatcher: Dispatcher,
    private readonly scheduler: CronScheduler,
    private readonly brokers?: { setConsumers: (plans: readonly BrokerConsumerPlan[]) => void }
  ) {}

  /** Declares what the stored functions consume (a platform start re-declares every queue), then follows changes. */
  start (): void {
    this.reconcile()
    this.unwatch = this.store.watch(() => this.schedule())
  }

  stop (): void {
    this.stopped = true
    this.unwatch?.()
    this.unwatch = null
  }

  /**
   * Declares every queue the functions consume (replacing policies that
   * changed), forgets those no function consumes any more (publishing to them
   * is refused; their records stay), and hands consumers and cron triggers on.
   */
  reconcile (): void {
    if (this.stopped || !this.events.isOpen) return
    const plan = planTriggers(this.store.listResources<FunctionSpec>('Function'))
    const declared = new Set<string>()
    for (const queue of plan.queues) {
      this.events.declareQueue(queue.namespace, queue.queue, queue.policy)
      declared.add(queueKey(queue.namespace, queue.queue))
    }
    for (const key of this.declared) {
      if (declared.has(key)) continue
      const slash = key.indexOf('/')
      this.events.forgetQueue(key.slice(0, slash), key.slice(slash + 1))
    }
    this.declared = declared
    this.dispatcher.setConsumers(plan.consumers)
    this.scheduler.setTriggers(plan.crons)
    this.brokers?.setConsumers(plan.brokers)
  }

  private schedule (): void {
    if (this.scheduled || this.stopped) return
    this.scheduled = true
    setImmediate(() => {
      this.scheduled = false
      this.reconcile()
    })
  }
}
