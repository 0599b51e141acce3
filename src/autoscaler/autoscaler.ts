import { describeCap, type CpuCap, type CpuInputs } from './cpu-cap.js'
import { decide, newScaleMemory, type MetricValues, type ScaleDecision, type ScaleMemory, type ScalePolicy, type ScaleReason } from './decide.js'
import { VersionUsage, type InstanceUsage } from './instance-usage.js'
import { MachineUsage, type MachineLoad } from './machine-usage.js'
import { scheduledFloor, type ScheduledMin } from './scheduled-floor.js'
import { SlidingWindow } from './sliding-window.js'

export interface VersionIdentity {
  namespace: string
  name: string
  version: number
}

/** A function version the autoscaler owns the instance count of. */
export interface ScaledVersion {
  key: string
  fn: VersionIdentity
  policy: ScalePolicy
  schedule: readonly ScheduledMin[]
  /** At least this many whatever the traffic: a rollout's new version while it comes up. */
  pin: number
}

/** One version's load over the last report interval, as the gateway measured it. */
export interface VersionLoad {
  key: string
  /** Time-averaged requests open (in flight or waiting) over the interval. */
  concurrency: number
  rps: number
  arrivals: number
  inFlight: number
  waiting: number
}

export interface LoadReport {
  at: number
  versions: readonly VersionLoad[]
}

/** One version's share of the backlog of the queues its function consumes. */
export interface VersionQueueLoad {
  key: string
  /** Messages waiting + leased (never waiting alone: busy workers would be stopped). */
  backlog: number
  /** When a message of those queues last finished (epoch ms); undefined if none ever did. */
  lastCompletedAt: number | undefined
}

export interface QueueReport {
  at: number
  versions: readonly VersionQueueLoad[]
}

/** A change of a version's desired count, with everything it was decided on. */
export interface ScalingDecision {
  key: string
  fn: VersionIdentity
  from: number
  to: number
  reason: ScaleReason | 'activation' | 'new-version'
  panic: boolean
  floor: number
  observed: { stable: MetricValues, panic: MetricValues }
  want: { stable: number, panic: number }
  policy: ScalePolicy
  /** The CPU cap that held this count back or undid a scale-up; null when none did. */
  cap: CpuCap | null
  at: number
  /** One line for people: `roost describe` shows it. */
  message: string
}

/** What `roost describe` shows of a version's scaling. */
export interface ScalingStatus {
  desired: number
  floor: number
  panic: boolean
  observed: { stable: MetricValues, panic: MetricValues }
  /** Since the last request; null if the version never had one. */
  idleMs: number | null
  /** The CPU cap in force; null when the version is not CPU-bound on a saturated machine, or nothing reports. */
  cap: CpuCap | null
  /** The machine's CPU and the instances' use of it as the last step saw them; null without those reports. */
  cpu: CpuInputs | null
  lastDecision: ScalingDecision | null
}

export interface ScaleSink {
  scale (versionKey: string, replicas: number): void
}

export interface AutoscalerHooks {
  onDecision (decision: ScalingDecision): void
  /** The CPU cap began to hold a version at its count (`from === to`): no onDecision says so. */
  onCapped? (decision: ScalingDecision): void
}

export interface AutoscalerOptions {
  /** Time between two steps; the gateway reports load at the same pace. */
  tickMs?: number
  now?: () => number
}

const SAMPLE_MS = 1000

interface ChangeInputs {
  apply: boolean
  decision?: ScaleDecision
  observed?: { stable: MetricValues, panic: MetricValues }
  floor?: number
}

class VersionScaler {
  desired = 0
  lastActiveAt: number
  readonly memory: ScaleMemory = newScaleMemory()
  concurrency: SlidingWindow
  rps: SlidingWindow
  queue: SlidingWindow
  lastDecision: ScalingDecision | null = null
  readonly usage = new VersionUsage()
  /** The last step's view of the CPU, for status. */
  cpu: CpuInputs | null = null
  cap: CpuCap | null = null
  /** The cap lowered the last step's count: onCapped fires when this starts without a change. */
  limited = false

  constructor (public spec: ScaledVersion) {
    // Never active yet: a version nobody called is idle from the start.
    this.lastActiveAt = -Infinity
    this.concurrency = new SlidingWindow(samplesIn(spec.policy.windowMs))
    this.rps = new SlidingWindow(samplesIn(spec.policy.windowMs))
    this.queue = new SlidingWindow(samplesIn(spec.policy.windowMs))
  }

  update (spec: ScaledVersion, now: number): void {
    // A version that just got its routes (its rollout completed) counts as
    // active from now, so that it is not taken for idle before traffic arrives.
    if (this.spec.pin > 0 && spec.pin === 0) this.lastActiveAt = Math.max(this.lastActiveAt, now)
    // A new window length starts a new average: samples are not carried over.
    if (spec.policy.windowMs !== this.spec.policy.windowMs) {
      this.concurrency = new SlidingWindow(samplesIn(spec.policy.windowMs))
      this.rps = new SlidingWindow(samplesIn(spec.policy.windowMs))
      this.queue = new SlidingWindow(samplesIn(spec.policy.windowMs))
    }
    this.spec = spec
  }

  floor (now: number): number {
    return Math.min(this.spec.policy.max, Math.max(this.spec.policy.min, this.spec.pin, scheduledFloor(this.spec.schedule, now)))
  }

  observed (): { stable: MetricValues, panic: MetricValues } {
    const stable = this.concurrency.capacity
    const panic = Math.max(1, Math.round(stable / 10))
    return {
      stable: { concurrency: this.concurrency.average(stable), rps: this.rps.average(stable), queue: this.queue.average(stable) },
      panic: { concurrency: this.concurrency.average(panic), rps: this.rps.average(panic), queue: this.queue.average(panic) }
    }
  }
}

/**
 * Desired instance counts from the gateway's load reports (DESIGN.md, "Scaling").
 * It writes counts to a sink (the instance manager) and never starts anything itself.
 */
export class Autoscaler {
  private readonly scalers = new Map<string, VersionScaler>()
  private timer: NodeJS.Timeout | null = null
  private readonly tickMs: number
  private readonly now: () => number
  private readonly machine = new MachineUsage()

  constructor (private readonly sink: ScaleSink, private readonly hooks: AutoscalerHooks, options: AutoscalerOptions = {}) {
    this.tickMs = options.tickMs ?? 1000
    this.now = options.now ?? Date.now
  }

  start (): void {
    this.timer ??= setInterval(() => this.tick(), this.tickMs)
    this.timer.unref()
  }

  stop (): void {
    if (this.timer !== null) clearInterval(this.timer)
    this.timer = null
  }

  /**
   * The versions to scale, replacing the previous set. A new version starts at
   * its floor; a known one keeps its count, moved into its (new) bounds at once.
   * The counts are read back with `desired` to build the instance targets.
   */
  setVersions (versions: readonly ScaledVersion[]): void {
    const now = this.now()
    const keep = new Set<string>()
    for (const spec of versions) {
      keep.add(spec.key)
      let scaler = this.scalers.get(spec.key)
      if (scaler === undefined) {
        scaler = new VersionScaler(spec)
        this.scalers.set(spec.key, scaler)
      } else {
        scaler.update(spec, now)
      }
      const floor = scaler.floor(now)
      const bounded = Math.min(spec.policy.max, Math.max(floor, scaler.desired))
      if (bounded !== scaler.desired) this.change(scaler, bounded, bounded > scaler.desired ? 'floor' : 'max', now, { apply: false, floor })
    }
    for (const key of this.scalers.keys()) if (!keep.has(key)) this.scalers.delete(key)
  }

  desired (versionKey: string): number {
    return this.scalers.get(versionKey)?.desired ?? 0
  }

  /** The gateway's load of the last second: one sample per version. */
  observe (report: LoadReport): void {
    for (const load of report.versions) {
      const scaler = this.scalers.get(load.key)
      if (scaler === undefined) continue
      scaler.concurrency.push(load.concurrency)
      scaler.rps.push(load.rps)
      if (load.arrivals > 0 || load.inFlight > 0 || load.waiting > 0) scaler.lastActiveAt = Math.max(scaler.lastActiveAt, report.at)
    }
  }

  /**
   * The backlog of each version's queues, about once a second: one sample per
   * version, in the same windows as the gateway's load. A version with work
   * waiting or in flight is active; one whose queues are empty is idle from
   * the last completion on (not from this report), so `scaleDownDelay` runs
   * from when the last message finished.
   */
  observeQueues (report: QueueReport): void {
    for (const load of report.versions) {
      const scaler = this.scalers.get(load.key)
      if (scaler === undefined) continue
      scaler.queue.push(load.backlog)
      if (load.backlog > 0) scaler.lastActiveAt = Math.max(scaler.lastActiveAt, report.at)
      else if (load.lastCompletedAt !== undefined) scaler.lastActiveAt = Math.max(scaler.lastActiveAt, load.lastCompletedAt)
    }
  }

  /** An instance's liveness pong; reports of instances of unknown versions are ignored. */
  observeInstance (usage: InstanceUsage): void {
    this.scalers.get(usage.versionKey)?.usage.observe(usage)
  }

  /** An instance stopped: its last report no longer counts toward its version. */
  forgetInstance (instanceId: string): void {
    for (const scaler of this.scalers.values()) if (scaler.usage.forget(instanceId)) return
  }

  /** The machine's CPU over the last second (MachineCpu.sample), about once a second. */
  observeMachine (load: MachineLoad): void {
    this.machine.observe(load)
  }

  /**
   * A request waits for a version with no instance (or, with `why` 'new-version',
   * a version was just made and must show it can start): scale it from zero now,
   * not at the next step.
   */
  activate (versionKey: string, why: 'activation' | 'new-version' = 'activation'): void {
    const scaler = this.scalers.get(versionKey)
    if (scaler === undefined) return
    const now = this.now()
    scaler.lastActiveAt = now
    if (scaler.desired > 0) return
    this.change(scaler, Math.min(scaler.spec.policy.max, 1), why, now, { apply: true })
  }

  /** One step for every version; runs every `tickMs` once started. */
  tick (): void {
    const now = this.now()
    for (const scaler of this.scalers.values()) {
      const observed = scaler.observed()
      const floor = scaler.floor(now)
      const usage = this.cpuInputs(scaler, now)
      const decision = decide(scaler.spec.policy, {
        now,
        current: scaler.desired,
        floor,
        stable: observed.stable,
        panic: observed.panic,
        idleMs: now - scaler.lastActiveAt,
        lastConcurrency: scaler.concurrency.average(1),
        cpu: usage
      }, scaler.memory)
      scaler.cpu = usage ?? null
      scaler.cap = decision.cap
      const inputs: ChangeInputs = { apply: true, decision, observed, floor }
      if (decision.limited && !scaler.limited && decision.desired === scaler.desired) this.hooks.onCapped?.(this.record(scaler, decision.desired, decision.reason, now, inputs))
      scaler.limited = decision.limited
      if (decision.desired !== scaler.desired) this.change(scaler, decision.desired, decision.reason, now, inputs)
    }
  }

  /** Both the machine and at least one instance must have reported lately, or there is no cap. */
  private cpuInputs (scaler: VersionScaler, now: number): CpuInputs | undefined {
    const machine = this.machine.current(now)
    if (machine === null) return undefined
    const usage = scaler.usage.summary(now)
    if (usage === null) return undefined
    const inputs: CpuInputs = { cores: machine.cores, machineBusy: machine.busy, elu: usage.elu, cpuCores: usage.cpuCores }
    if (machine.proxyElu !== undefined) inputs.proxyElu = machine.proxyElu
    return inputs
  }

  status (versionKey: string): ScalingStatus | undefined {
    const scaler = this.scalers.get(versionKey)
    if (scaler === undefined) return undefined
    const now = this.now()
    return {
      desired: scaler.desired,
      floor: scaler.floor(now),
      panic: now < scaler.memory.panicUntil,
      observed: scaler.observed(),
      idleMs: Number.isFinite(scaler.lastActiveAt) ? now - scaler.lastActiveAt : null,
      cap: scaler.cap,
      cpu: scaler.cpu,
      lastDecision: scaler.lastDecision
    }
  }

  /**
   * Records and applies a new count. `apply: false` is for setVersions, whose
   * caller reads the counts back; the inputs a step already computed are reused.
   */
  private change (scaler: VersionScaler, to: number, reason: ScalingDecision['reason'], now: number, inputs: ChangeInputs): void {
    const record = this.record(scaler, to, reason, now, inputs)
    scaler.desired = to
    scaler.lastDecision = record
    if (inputs.apply) this.sink.scale(scaler.spec.key, to)
    this.hooks.onDecision(record)
  }

  private record (scaler: VersionScaler, to: number, reason: ScalingDecision['reason'], now: number, inputs: ChangeInputs): ScalingDecision {
    const { decision } = inputs
    const observed = inputs.observed ?? scaler.observed()
    const record: ScalingDecision = {
      key: scaler.spec.key,
      fn: scaler.spec.fn,
      from: scaler.desired,
      to,
      reason,
      panic: decision?.panic ?? false,
      floor: inputs.floor ?? scaler.floor(now),
      observed,
      want: { stable: decision?.stableWant ?? 0, panic: decision?.panicWant ?? 0 },
      policy: scaler.spec.policy,
      cap: decision?.limited === true ? decision.cap : null,
      at: now,
      message: ''
    }
    record.message = describeDecision(record)
    return record
  }
}

function samplesIn (windowMs: number): number {
  return Math.max(1, Math.ceil(windowMs / SAMPLE_MS))
}

const REASON_TEXT: Record<ScalingDecision['reason'], string> = {
  activation: 'a request arrived with no instance running',
  'new-version': 'a new version starts once to show it can',
  stable: 'stable-window demand',
  panic: 'panic: the panic window saw at least twice the current capacity',
  floor: 'the floor (min, schedule or rollout) rose',
  max: 'above max',
  'scale-down': `demand stayed lower for the scale-down delay`,
  idle: 'no request for the scale-down delay',
  hold: 'no change',
  capped: 'the CPU cap',
  undo: 'a scale-up added no throughput',
  probe: 'one instance fewer is tried: the CPU the instances use keeps fewer busy',
  restore: 'one instance fewer served less'
}

/** `v3: 2 → 5 (stable-window demand; concurrency 31.2 over 60s / (10 × 0.7) → 5; panic window 6s: 40.1 → 6; floor 0)` */
export function describeDecision (d: ScalingDecision): string {
  const windowS = d.policy.windowMs / 1000
  const panicS = Math.max(1, Math.round(windowS / 10))
  const metrics = d.policy.metrics.map(({ metric, target }) =>
    `${metric} ${round(d.observed.stable[metric] ?? 0)} over ${windowS}s, ${round(d.observed.panic[metric] ?? 0)} over ${panicS}s / ${metric === 'queue' ? String(target) : `(${target} × ${d.policy.utilization})`}`).join('; ')
  const cap = d.cap === null ? '' : `; ${describeCap(d.cap)}`
  return `v${d.fn.version}: ${d.from} → ${d.to} instances (${REASON_TEXT[d.reason]}; ${metrics}; wants ${d.want.stable} stable, ${d.want.panic} panic; floor ${d.floor}, max ${d.policy.max}; panic mode ${d.panic ? 'on' : 'off'}${cap})`
}

function round (value: number): string {
  return (Math.round(value * 10) / 10).toString()
}
