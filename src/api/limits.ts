// The numbers the data plane and the autoscaler work with, from a normalized spec.

import type { FunctionSpec, ScaleMetricTarget, ScheduleEntry } from './function-schema.js'
import { parseDuration, parseMemory } from './quantities.js'

export interface FunctionLimits {
  timeoutMs: number
  memoryMiB: number
  concurrency: number
  scale: ScaleLimits
}

export interface ScaleLimits {
  min: number
  max: number
  /** What the autoscaler follows; with several, the largest count wins. */
  metrics: ScaleMetricTarget[]
  utilization: number
  windowMs: number
  scaleDownDelayMs: number
  schedule: Array<Required<ScheduleEntry>>
}

// `spec` must be normalized (validateFunction's result): quantities are parsed, not checked.
export function resolveLimits (spec: FunctionSpec): FunctionLimits {
  const { scale } = spec
  return {
    timeoutMs: parseDuration(spec.timeout),
    memoryMiB: parseMemory(spec.memory),
    concurrency: spec.concurrency,
    scale: {
      min: scale.min,
      max: scale.max,
      metrics: scale.metrics ?? [{ metric: scale.metric, target: scale.target }],
      utilization: scale.utilization,
      windowMs: parseDuration(scale.window),
      scaleDownDelayMs: parseDuration(scale.scaleDownDelay),
      schedule: (scale.schedule ?? []).map((entry) => ({ ...entry, timezone: entry.timezone ?? 'UTC' }))
    }
  }
}
