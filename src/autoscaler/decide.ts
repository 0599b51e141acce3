// One autoscaling step for one function version, as a pure function of the
// policy, what was observed and what the version remembers from earlier steps,
// so that every rule of DESIGN.md ("Scaling") is testable without a clock.

import { capStep, forgetCpu, newCpuMemory, startTrial, type CapContext, type CapStep, type CpuCap, type CpuInputs, type CpuMemory } from './cpu-cap.js'

export type ScaleMetric = 'concurrency' | 'rps' | 'queue'

export interface MetricValues {
  concurrency: number
  rps: number
  /** Messages waiting or leased on the version's queue triggers (its share of them); absent: none. */
  queue?: number
}

export interface ScalePolicy {
  /** Fewest instances, before scheduled floors. */
  min: number
  max: number
  metrics: ReadonlyArray<{ metric: ScaleMetric, target: number }>
  utilization: number
  windowMs: number
  scaleDownDelayMs: number
  /** Requests one instance takes at once (the function's concurrency). */
  instanceConcurrency: number
}

export interface ScaleInputs {
  now: number
  /** The desired count in force before this step. */
  current: number
  /** The floor in force now: `min`, raised by a schedule or a pending rollout. */
  floor: number
  /** Averages over the stable window and over the panic window. */
  stable: MetricValues
  panic: MetricValues
  /** Time since the version last had a request arriving, in flight or waiting. */
  idleMs: number
  /** The last second's concurrency alone; absent: the panic window's. */
  lastConcurrency?: number
  /** The machine's CPU and the instances' use of it; without it, no CPU cap (the rules as before). */
  cpu?: CpuInputs
}

/** What a version carries from one step to the next. */
export interface ScaleMemory {
  /** Panic mode lasts until then; 0 when not panicking. */
  panicUntil: number
  /** Since when the wanted count has been below the current one; null if it is not. */
  lowSince: number | null
  /** The CPU cap's state (cpu-cap.ts). */
  cpu: CpuMemory
}

/**
 * `capped`: the CPU cap held the count or took it down; `undo`: a scale-up
 * that added no throughput was undone; `probe`: one instance fewer is tried on
 * contended cores; `restore`: that one fewer served less, and is undone.
 */
export type ScaleReason = 'hold' | 'stable' | 'panic' | 'floor' | 'max' | 'scale-down' | 'idle' | 'capped' | 'undo' | 'probe' | 'restore'

export interface ScaleDecision {
  desired: number
  reason: ScaleReason
  panic: boolean
  /** Instances the stable and the panic windows ask for, before clamping. */
  stableWant: number
  panicWant: number
  /** The CPU cap in force, whether or not it changed this step's count. */
  cap: CpuCap | null
  /** The cap lowered this step's count below what demand asked for (or undid a scale-up). */
  limited: boolean
}

// Averages carry float noise: 7.000000001 requests must not ask for a second instance.
const EPSILON = 1e-9

/**
 * Instances needed to carry `values`: the largest count over the policy's
 * metrics. A backlog is divided by its target as it is (KEDA's AverageValue):
 * messages are work waiting, not a load to keep headroom under.
 */
export function instancesFor (policy: ScalePolicy, values: MetricValues): number {
  let want = 0
  for (const { metric, target } of policy.metrics) {
    const perInstance = metric === 'queue' ? target : target * policy.utilization
    want = Math.max(want, Math.ceil((values[metric] ?? 0) / perInstance - EPSILON))
  }
  return want
}

export function newScaleMemory (): ScaleMemory {
  return { panicUntil: 0, lowSince: null, cpu: newCpuMemory() }
}

export function decide (policy: ScalePolicy, input: ScaleInputs, memory: ScaleMemory): ScaleDecision {
  const { now, current, floor } = input
  const stableWant = instancesFor(policy, input.stable)
  const panicWant = instancesFor(policy, input.panic)
  const idle = input.idleMs >= policy.scaleDownDelayMs
  let cap: CpuCap | null = null
  let limited = false
  const result = (desired: number, reason: ScaleReason): ScaleDecision =>
    ({ desired, reason, panic: now < memory.panicUntil, stableWant, panicWant, cap, limited })

  if (idle) memory.panicUntil = 0
  // As in Knative, a burst twice the current capacity panics, and panic lasts a
  // stable window after the burst was last seen.
  else if (current > 0 && panicWant >= 2 * current) memory.panicUntil = now + policy.windowMs
  const panicking = now < memory.panicUntil

  // Only idleness, not a decaying average, takes a version to its floor or to
  // zero; a version with recent traffic keeps at least one instance.
  let want = 0
  if (!idle) want = Math.max(1, panicking ? Math.max(current, panicWant, stableWant) : stableWant)
  want = Math.min(policy.max, Math.max(floor, want))

  // The CPU cap overrides panic's hold: on a saturated machine more instances add no capacity.
  const context: CapContext = { now, current, floor, panic: input.panic, windowMs: policy.windowMs, instanceConcurrency: policy.instanceConcurrency, lastConcurrency: input.lastConcurrency ?? input.panic.concurrency }
  const step = cpuStep(memory, input, context)
  cap = step.cap
  if (step.move !== null) {
    memory.lowSince = null
    limited = step.move.reason !== 'restore'
    return result(step.move.to, step.move.reason)
  }
  if (cap !== null && want > cap.limit) {
    // Contended cores only stop growth: a count above the limit comes down by trial scale-downs, each judged.
    want = cap.bound === 'cores' ? cap.limit : Math.max(cap.limit, Math.min(want, current))
    limited = true
  }

  if (want > current) {
    memory.lowSince = null
    if (input.cpu !== undefined) startTrial(memory.cpu, context)
    if (panicking) return result(want, 'panic')
    return result(want, want === floor && stableWant < floor ? 'floor' : 'stable')
  }
  if (want === current) {
    memory.lowSince = null
    return result(current, limited ? 'capped' : 'hold')
  }
  if (current > policy.max) {
    memory.lowSince = null
    return result(policy.max, 'max')
  }
  if (idle && want === 0) {
    memory.lowSince = null
    return result(0, 'idle')
  }
  memory.lowSince ??= now
  if (now - memory.lowSince < policy.scaleDownDelayMs) return result(current, limited ? 'capped' : 'hold')
  // Halving at most per step keeps a dip in traffic from dropping capacity at once.
  return result(Math.max(want, Math.ceil(current / 2)), limited ? 'capped' : 'scale-down')
}

const NO_CAP: CapStep = { cap: null, move: null }

// Without CPU inputs nothing is capped, and what the cap learned is forgotten.
function cpuStep (memory: ScaleMemory, input: ScaleInputs, context: CapContext): CapStep {
  if (input.cpu !== undefined) return capStep(memory.cpu, input.cpu, context)
  forgetCpu(memory.cpu)
  return NO_CAP
}
