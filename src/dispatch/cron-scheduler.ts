// The cron scheduler: per trigger, one timer to its next firing (no scan
// every second). When it fires, the times due since the trigger's mark are
// computed (catch-up after downtime included) and each is recorded under its
// deterministic id into the trigger's internal queue, where the dispatcher
// takes it: a restart can never fire a time twice, the id makes it a duplicate.
import type { CronSchedule, EventStore, WallClock } from '../events/index.js'
import { dueFirings, nextFiring, overlapDecision, parseCronSchedule, systemWallClock } from '../events/index.js'
import type { CronPlan } from './consumer.js'
import type { FiringBody } from './delivery-body.js'

export interface CronSchedulerHooks {
  /** Records were fired into the trigger's queue: the dispatcher's notify. */
  onFired (namespace: string, queue: string): void
  /** `replace`: the firings still running are given up (the dispatcher's abandon). */
  onReplace? (namespace: string, queue: string): void
  /** A time was not fired: the previous firing still runs (forbid), or it was missed while the platform was down. */
  onSkipped? (plan: CronPlan, what: { overlapped: number, missed: number }): void
  onError? (plan: CronPlan, err: unknown): void
}

export interface CronSchedulerOptions {
  events: EventStore
  hooks: CronSchedulerHooks
  clock?: WallClock
}

/** Catch-up "all" fires at most this many missed times. */
export const MAX_CATCH_UP_FIRINGS = 100
const MAX_TIMER_MS = 2 ** 31 - 1

interface TriggerState {
  plan: CronPlan
  /** What the plan was made from: a changed trigger gets a new schedule and timer. */
  identity: string
  schedule: CronSchedule
  timer: NodeJS.Timeout | null
  nextAt: number | undefined
}

/** What `roost get triggers` shows of one cron trigger. */
export interface CronTriggerView {
  plan: CronPlan
  lastFiring: number | undefined
  nextFiring: number | undefined
}

export class CronScheduler {
  private readonly events: EventStore
  private readonly hooks: CronSchedulerHooks
  private readonly clock: WallClock
  private readonly triggers = new Map<string, TriggerState>()
  private running = false

  constructor (options: CronSchedulerOptions) {
    this.events = options.events
    this.hooks = options.hooks
    this.clock = options.clock ?? systemWallClock
  }

  start (): void {
    if (this.running) return
    this.running = true
    for (const state of this.triggers.values()) this.run(state)
  }

  stop (): void {
    this.running = false
    for (const state of this.triggers.values()) clearTimer(state)
  }

  /** The triggers to run, replacing the previous set; an unchanged one keeps its timer. */
  setTriggers (plans: readonly CronPlan[]): void {
    const keep = new Set<string>()
    for (const plan of plans) {
      const key = `${plan.namespace}/${plan.trigger}`
      keep.add(key)
      const identity = JSON.stringify([plan.schedule, plan.timezone, plan.catchUp, plan.catchUpWindowMs, plan.overlap, plan.queue])
      const existing = this.triggers.get(key)
      if (existing !== undefined && existing.identity === identity) {
        existing.plan = plan
        continue
      }
      if (existing !== undefined) clearTimer(existing)
      let schedule: CronSchedule
      try {
        // The seed is the trigger's identity: `H` fields keep their times across restarts.
        schedule = parseCronSchedule(plan.schedule, plan.timezone, { seed: `${plan.namespace}/${plan.trigger}` })
      } catch (err) {
        // Validated at apply; a schedule stored before a stricter check is reported, not run.
        this.hooks.onError?.(plan, err)
        this.triggers.delete(key)
        continue
      }
      const state: TriggerState = { plan, identity, schedule, timer: null, nextAt: undefined }
      this.triggers.set(key, state)
      if (this.running) this.run(state)
    }
    for (const [key, state] of this.triggers) {
      if (keep.has(key)) continue
      clearTimer(state)
      this.triggers.delete(key)
    }
  }

  /** Every trigger with its last and next firing. */
  views (): CronTriggerView[] {
    return [...this.triggers.values()].map((state) => ({
      plan: state.plan,
      lastFiring: this.events.isOpen ? this.events.lastFiring(state.plan.namespace, state.plan.trigger) : undefined,
      nextFiring: state.nextAt ?? nextFiring(state.schedule, this.clock.now())
    }))
  }

  /** Fires what is due, then sets the timer to the next firing. */
  private run (state: TriggerState): void {
    clearTimer(state)
    if (!this.running || !this.events.isOpen) return
    const now = this.clock.now()
    try {
      this.fireDue(state, now)
    } catch (err) {
      this.hooks.onError?.(state.plan, err)
    }
    state.nextAt = nextFiring(state.schedule, now)
    if (state.nextAt === undefined) return
    // The wait is counted from after this firing's work, or the next one would be late by it.
    // A timer may fire a little early: run() then finds nothing due and sets it again.
    state.timer = setTimeout(() => this.run(state), Math.min(MAX_TIMER_MS, Math.max(0, state.nextAt - this.clock.now())))
    state.timer.unref()
  }

  private fireDue (state: TriggerState, now: number): void {
    const { plan } = state
    const since = this.events.lastFiring(plan.namespace, plan.trigger) ?? plan.since
    const due = dueFirings(state.schedule, {
      since,
      now,
      catchUp: { policy: plan.catchUp, windowMs: plan.catchUpWindowMs, max: MAX_CATCH_UP_FIRINGS }
    })
    let overlapped = 0
    let fired = 0
    for (const scheduledTime of due.fire) {
      const running = this.events.stats(plan.namespace, plan.queue).backlog
      const decision = overlapDecision(plan.overlap, running)
      if (decision === 'skip') {
        this.events.skipFiring(plan.namespace, plan.trigger, scheduledTime)
        overlapped++
        continue
      }
      if (decision === 'replace') this.replaceRunning(plan)
      const body: FiringBody = { trigger: plan.trigger, cron: plan.schedule, timezone: state.schedule.timezone, scheduledTime }
      const result = this.events.fire(plan.namespace, plan.queue, {
        trigger: plan.trigger,
        scheduledTime,
        record: { body, subject: new Date(scheduledTime).toISOString(), source: `/namespaces/${plan.namespace}/functions/${plan.function}/triggers/${plan.trigger}` }
      })
      if (result.outcome === 'created') fired++
    }
    if (fired > 0) this.hooks.onFired(plan.namespace, plan.queue)
    if (overlapped > 0 || due.missed > 0) this.hooks.onSkipped?.(plan, { overlapped, missed: due.missed })
  }

  /** Firings waiting (for a retry) are cancelled; those running are given up by the dispatcher. */
  private replaceRunning (plan: CronPlan): void {
    for (const record of this.events.list(plan.namespace, plan.queue, { state: 'ready', limit: MAX_CATCH_UP_FIRINGS })) this.events.cancel(record.id)
    this.hooks.onReplace?.(plan.namespace, plan.queue)
  }
}

function clearTimer (state: TriggerState): void {
  if (state.timer !== null) clearTimeout(state.timer)
  state.timer = null
}
