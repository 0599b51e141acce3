export { ControlPlaneMetrics } from './control-plane-metrics.js'
export type { ControlPlaneMetricsOptions, FunctionVersionRef, InstanceRef, InstanceState } from './control-plane-metrics.js'
export { EXPOSITION_CONTENT_TYPE, escapeLabelValue, formatValue, joinExpositions } from './text-format.js'
