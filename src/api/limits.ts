// The numbers the data plane and the autoscaler work with, from a normalized spec.

import type { FunctionSpec, ScaleMetric } from './function-schema.js'
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
  metric: ScaleMetric
  target: number
  utilization: number
  windowMs: number
  scaleDownDelayMs: number
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
      metric: scale.metric,
      target: scale.target,
      utilization: scale.utilization,
      windowMs: parseDuration(scale.window),
      scaleDownDelayMs: parseDuration(scale.scaleDownDelay)
    }
  }
}
