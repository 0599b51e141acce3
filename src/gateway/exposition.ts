// The gateway's metrics in the Prometheus text format (version 0.0.4).
// Written by hand on purpose: prom-client would hash a label object on every
// observation in the hot path, and it cannot take histograms already counted
// in another thread, so the worker counts in typed arrays and renders them here.
// The worker takes the format helpers from their file, not from metrics/index.ts,
// which would load prom-client into the data plane's thread for nothing.
import { escapeLabelValue, formatValue } from '../metrics/text-format.js'
export { EXPOSITION_CONTENT_TYPE, escapeLabelValue, joinExpositions } from '../metrics/text-format.js'
import { LATENCY_BUCKETS_SECONDS, type LatencyHistogram } from './version-stats.js'
import type { Call } from './call.js'
import type { VersionState } from './version-state.js'
import type { FunctionGovernance } from './function-governance.js'

const CODE_LABELS = ['1xx', '2xx', '3xx', '4xx', '5xx']
const LE_LABELS = [...LATENCY_BUCKETS_SECONDS.map((seconds) => String(seconds)), '+Inf']

/** The gateway's own load, apart from any function's. */
export interface GatewayLoad {
  shedTotal: number
  lagMs: number
}

export interface GovernedFunctionMetrics {
  /** `namespace/name` */
  key: string
  governance: FunctionGovernance
  budgetLeft: number
}

/** Governance counters the gateway keeps: rejections by `function\0cause\0rule`, retries. */
export interface GovernanceMetrics {
  rejections: Map<string, number>
  retriesTotal: number
  functions: GovernedFunctionMetrics[]
  now: number
}

const BREAKER_STATES = ['closed', 'open', 'half-open'] as const

/** Renders the gateway's series for these versions. */
export function renderGatewayMetrics (versions: Array<VersionState<Call>>, load: GatewayLoad, governance: GovernanceMetrics): string {
  const lines: string[] = []
  renderGovernance(lines, governance)
  family(lines, 'roost_gateway_shed_total', 'counter', 'New requests the gateway answered 503 itself because its event loop fell behind.')
  lines.push(`roost_gateway_shed_total ${load.shedTotal}`)
  family(lines, 'roost_gateway_event_loop_lag_seconds', 'gauge', 'How late the gateway\'s event loop runs its timers, averaged.')
  lines.push(`roost_gateway_event_loop_lag_seconds ${formatValue(load.lagMs / 1000)}`)
  family(lines, 'roost_requests_total', 'counter', 'Requests the gateway answered (proxied or its own errors), by status class.')
  for (const v of versions) {
    for (let i = 0; i < CODE_LABELS.length; i++) lines.push(`roost_requests_total{${v.labels},code="${CODE_LABELS[i]}"} ${formatValue(v.stats.codes[i])}`)
  }
  family(lines, 'roost_request_duration_seconds', 'histogram', 'Time from a request\'s arrival at the gateway to its response, waiting included.')
  for (const v of versions) histogram(lines, 'roost_request_duration_seconds', v.labels, v.stats.latency)
  family(lines, 'roost_requests_in_flight', 'gauge', 'Requests sent to an instance and not finished.')
  for (const v of versions) lines.push(`roost_requests_in_flight{${v.labels}} ${v.stats.inFlight}`)
  family(lines, 'roost_activator_queue_length', 'gauge', 'Requests waiting in the gateway for an instance with a free slot.')
  for (const v of versions) lines.push(`roost_activator_queue_length{${v.labels}} ${v.stats.waiting}`)
  family(lines, 'roost_request_arrivals_total', 'counter', 'Requests that arrived for the version (answered or not yet).')
  for (const v of versions) lines.push(`roost_request_arrivals_total{${v.labels}} ${v.stats.arrivals}`)
  family(lines, 'roost_cold_start_requests_total', 'counter', 'Requests that arrived while the version had no ready instance and had to wait for one.')
  for (const v of versions) lines.push(`roost_cold_start_requests_total{${v.labels}} ${v.stats.coldStarts}`)
  family(lines, 'roost_cold_start_request_seconds', 'histogram', 'Time from arrival to response of the requests that arrived with no ready instance.')
  for (const v of versions) histogram(lines, 'roost_cold_start_request_seconds', v.labels, v.stats.coldLatency)
  lines.push('')
  return lines.join('\n')
}

function functionLabels (key: string): string {
  const slash = key.indexOf('/')
  return `namespace="${escapeLabelValue(key.slice(0, slash))}",function="${escapeLabelValue(key.slice(slash + 1))}"`
}

function renderGovernance (lines: string[], metrics: GovernanceMetrics): void {
  family(lines, 'roost_governance_rejected_total', 'counter', 'Requests a governance rule refused (answered 429/503 or a fallback), by cause and rule.')
  for (const [key, count] of metrics.rejections) {
    const [fn, reason, rule] = key.split('\u0000')
    lines.push(`roost_governance_rejected_total{${functionLabels(fn)},reason="${reason}",rule="${escapeLabelValue(rule)}"} ${count}`)
  }
  family(lines, 'roost_circuit_breaker_state', 'gauge', 'Each breaker\'s state: 1 for the state it is in, 0 for the others.')
  for (const { key, governance } of metrics.functions) {
    governance.forEachRule((rule, breakers) => {
      for (const breaker of breakers) {
        const state = breaker.state(metrics.now)
        const labels = `${functionLabels(key)},rule="${escapeLabelValue(rule)}",breaker="${escapeLabelValue(breaker.policy.name)}"`
        for (const name of BREAKER_STATES) lines.push(`roost_circuit_breaker_state{${labels},state="${name}"} ${state === name ? 1 : 0}`)
      }
    })
  }
  family(lines, 'roost_governance_limiter_keys', 'gauge', 'Distinct keys (callers, addresses, header or query values) a rule\'s keyed limits track now.')
  for (const { key, governance } of metrics.functions) {
    governance.forEachRule((rule, _breakers, keys) => lines.push(`roost_governance_limiter_keys{${functionLabels(key)},rule="${escapeLabelValue(rule)}"} ${keys}`))
  }
  family(lines, 'roost_retries_total', 'counter', 'Requests the gateway sent again after an instance crashed or answered 502/503.')
  lines.push(`roost_retries_total ${metrics.retriesTotal}`)
  family(lines, 'roost_retry_budget_remaining', 'gauge', 'Retries each function may still make now under its retry budget.')
  for (const { key, budgetLeft } of metrics.functions) lines.push(`roost_retry_budget_remaining{${functionLabels(key)}} ${budgetLeft}`)
}

function family (lines: string[], name: string, type: string, help: string): void {
  lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
}

function histogram (lines: string[], name: string, labels: string, h: LatencyHistogram): void {
  let cumulative = 0
  for (let i = 0; i < h.counts.length; i++) {
    cumulative += h.counts[i]
    lines.push(`${name}_bucket{${labels},le="${LE_LABELS[i]}"} ${cumulative}`)
  }
  lines.push(`${name}_sum{${labels}} ${formatValue(h.sumMs / 1000)}`, `${name}_count{${labels}} ${h.count}`)
}
