// The autoscaler: desired instance counts from the gateway's load reports.
export { Autoscaler, describeDecision } from './autoscaler.js'
export type { AutoscalerHooks, AutoscalerOptions, LoadReport, ScaledVersion, ScaleSink, ScalingDecision, ScalingStatus, VersionIdentity, VersionLoad } from './autoscaler.js'
export { decide, instancesFor, newScaleMemory } from './decide.js'
export type { MetricValues, ScaleDecision, ScaleInputs, ScaleMemory, ScaleMetric, ScalePolicy, ScaleReason } from './decide.js'
export { activeWindow, scheduledFloor } from './scheduled-floor.js'
export type { ScheduledMin } from './scheduled-floor.js'
export { SlidingWindow } from './sliding-window.js'
