// The OpenSergo kinds, each spelling of each field, to the policy model. One
// function per kind; every problem is reported with the field it is about
// (`spec.statDuration`), so validation at apply and the compiler say the same.
// What is fixed here, because the sources leave it open:
// - limitMode: the gateway is the one place a function's requests pass, so
//   Local, Global and GlobalToLocal all limit the function's total (on one
//   machine there is nothing else to convert to);
// - a breaker trips when the ratio or count reaches the threshold (>=, as
//   Sentinel Go and resilience4j do);
// - a rate limit is a sliding window: exact to the request, where Sentinel's
//   two 500 ms buckets let up to twice the threshold through in one second.

import { GOVERNANCE_DEFAULTS } from './defaults.js'
import { opensergoDuration, show, unitDuration, type Report } from './durations.js'
import type { BreakerPolicy, ConcurrencyPolicy, Fallback, LaneMatch, RateLimitPolicy, RouteMatch, Strategy, ThrottlePolicy } from './policy.js'
import { parseRatio } from './ratio.js'
import { responseFallback } from './response-fallback.js'
import { parseRoute, formatRoute } from './route-match.js'
import {
  FALLBACK_KIND, isStrategyKind, STRATEGY_KINDS,
  type CircuitBreakerStrategySpec, type ConcurrencyLimitStrategySpec, type FaultToleranceRuleSpec, type HttpMatchSpec,
  type HttpRequestFallbackActionSpec, type RateLimitStrategySpec, type RuleRef, type RuleResource, type StrategyKind,
  type ThrottlingStrategySpec, type TrafficLabelRuleSpec
} from './rule-kinds.js'
import { parseNamedMatches, parseStringMatch } from './string-match.js'

export type LaneConditions = Omit<LaneMatch, 'id' | 'lane'>

export type NormalizedRule =
  | { kind: StrategyKind, strategy: Strategy }
  | { kind: typeof FALLBACK_KIND, fallback: Fallback }
  | { kind: 'FaultToleranceRule', selector: Record<string, string> | undefined, routes: RouteMatch[], strategies: RuleRef[], fallback: RuleRef | undefined }
  | { kind: 'TrafficLabelRule', selector: Record<string, string> | undefined, lane: string, matches: LaneConditions[] }

/** The rule in the policy model; undefined when a field cannot be read (each such field reported). */
export function normalizeRule (rule: RuleResource, report: Report): NormalizedRule | undefined {
  switch (rule.kind) {
    case 'RateLimitStrategy': return strategy(rule.kind, rateLimitOf(rule.name, rule.spec, report))
    case 'ThrottlingStrategy': return strategy(rule.kind, throttleOf(rule.name, rule.spec, report))
    case 'ConcurrencyLimitStrategy': return strategy(rule.kind, concurrencyOf(rule.name, rule.spec))
    case 'CircuitBreakerStrategy': return strategy(rule.kind, breakerOf(rule.name, rule.spec, report))
    case 'HttpRequestFallbackAction': {
      const fallback = fallbackOf(rule.spec, report)
      return fallback === undefined ? undefined : { kind: rule.kind, fallback }
    }
    case 'FaultToleranceRule': return faultToleranceRuleOf(rule, report)
    case 'TrafficLabelRule': return trafficLabelRuleOf(rule, report)
  }
}

/** The functions' labels a rule selects: spec.selector (the spec), else metadata.labels.app (the control plane). */
export function selectorOf (rule: { labels: Record<string, string>, spec: { selector?: Record<string, string> } }): Record<string, string> | undefined {
  const selector = rule.spec.selector
  if (selector !== undefined && Object.keys(selector).length > 0) return { ...selector }
  const app = rule.labels.app
  return app === undefined ? undefined : { app }
}

function strategy (kind: StrategyKind, policy: Strategy | undefined): NormalizedRule | undefined {
  return policy === undefined ? undefined : { kind, strategy: policy }
}

function rateLimitOf (name: string, spec: RateLimitStrategySpec, report: Report): RateLimitPolicy | undefined {
  const windowMs = statWindowOf(spec, report)
  if (windowMs === undefined) return undefined
  const d = GOVERNANCE_DEFAULTS.rateLimit
  return { kind: 'rate-limit', name, algorithm: d.algorithm, limit: spec.threshold, windowMs, burst: d.burst, key: { by: 'function' }, maxKeys: d.maxKeys }
}

/** The stat window in any of its four spellings; exactly one must be given. */
function statWindowOf (spec: RateLimitStrategySpec, report: Report): number | undefined {
  const given = (['statDuration', 'statDurationSeconds', 'stat_duration'] as const).filter((k) => spec[k] !== undefined)
  if (given.length === 0) {
    report('spec.statDuration', 'required: the window the threshold counts over, as statDuration: "1s" or statDurationSeconds: 1')
    return undefined
  }
  if (given.length > 1) {
    report(`spec.${given[1] as string}`, `give the window once: ${given.join(' and ')} are both given`)
    return undefined
  }
  if (spec.statDurationTimeUnit !== undefined && typeof spec.statDuration !== 'number') {
    report('spec.statDurationTimeUnit', 'goes with an integer statDuration (the proto\'s form); with statDuration: "1s" the unit is in the text')
    return undefined
  }
  if (spec.stat_duration_time_unit !== undefined && spec.stat_duration === undefined) {
    report('spec.stat_duration_time_unit', 'goes with stat_duration')
    return undefined
  }
  if (spec.statDurationSeconds !== undefined) return unitDuration(spec.statDurationSeconds, 'SECOND', 'spec.statDurationSeconds', report)
  if (spec.stat_duration !== undefined) {
    if (spec.stat_duration_time_unit === undefined) {
      report('spec.stat_duration_time_unit', 'required with stat_duration: MILLISECOND, SECOND, MINUTE, HOUR or DAY')
      return undefined
    }
    return unitDuration(spec.stat_duration, spec.stat_duration_time_unit, 'spec.stat_duration', report)
  }
  if (typeof spec.statDuration === 'number') {
    if (spec.statDurationTimeUnit === undefined) {
      report('spec.statDuration', `${spec.statDuration} has no unit: write statDuration: "${spec.statDuration}s", or add statDurationTimeUnit`)
      return undefined
    }
    return unitDuration(spec.statDuration, spec.statDurationTimeUnit, 'spec.statDuration', report)
  }
  return opensergoDuration(spec.statDuration, 'spec.statDuration', report)
}

function throttleOf (name: string, spec: ThrottlingStrategySpec, report: Report): ThrottlePolicy | undefined {
  const intervalMs = opensergoDuration(spec.minIntervalOfRequests, 'spec.minIntervalOfRequests', report, { allowZero: true })
  const maxQueueingMs = spec.queueTimeout === undefined
    ? GOVERNANCE_DEFAULTS.throttle.maxQueueingMs
    : opensergoDuration(spec.queueTimeout, 'spec.queueTimeout', report, { allowZero: true })
  if (intervalMs === undefined || maxQueueingMs === undefined) return undefined
  return { kind: 'throttle', name, intervalMs, maxQueueingMs, key: { by: 'function' }, maxKeys: GOVERNANCE_DEFAULTS.throttle.maxKeys }
}

function concurrencyOf (name: string, spec: ConcurrencyLimitStrategySpec): ConcurrencyPolicy {
  return { kind: 'concurrency', name, limit: spec.maxConcurrency }
}

function breakerOf (name: string, spec: CircuitBreakerStrategySpec, report: Report): BreakerPolicy | undefined {
  const d = GOVERNANCE_DEFAULTS.breaker
  const threshold = parseRatio(spec.triggerRatio, 'spec.triggerRatio', report)
  const windowMs = opensergoDuration(spec.statDuration, 'spec.statDuration', report)
  const recoveryMs = opensergoDuration(spec.recoveryTimeout, 'spec.recoveryTimeout', report)
  let slowMs: number | undefined = 0
  if (spec.strategy === 'SlowRequestRatio') {
    if (spec.slowConditions === undefined) {
      report('spec.slowConditions', 'required with strategy SlowRequestRatio: slowConditions: { maxAllowedRt: "500ms" } says which requests are slow')
      slowMs = undefined
    } else {
      slowMs = opensergoDuration(spec.slowConditions.maxAllowedRt, 'spec.slowConditions.maxAllowedRt', report)
    }
  }
  if (threshold === undefined || windowMs === undefined || recoveryMs === undefined || slowMs === undefined) return undefined
  return {
    kind: 'breaker',
    name,
    trigger: spec.strategy === 'SlowRequestRatio' ? 'slow-ratio' : 'error-ratio',
    threshold,
    slowMs,
    windowMs,
    buckets: defaultBuckets(windowMs),
    minRequests: spec.minRequestAmount ?? d.minRequests,
    recoveryMs,
    maxRecoveryMs: Math.max(recoveryMs, d.maxRecoveryMs),
    probes: d.probes,
    rampPercent: d.rampPercent,
    rampIntervalMs: d.rampIntervalMs
  }
}

/** Ten buckets, unless the window is too short to cut into tenths of 10 ms or more. */
export function defaultBuckets (windowMs: number): number {
  return windowMs >= 100 ? GOVERNANCE_DEFAULTS.breaker.buckets : 1
}

function fallbackOf (spec: HttpRequestFallbackActionSpec, report: Report): Fallback | undefined {
  const desc = spec.behaviorDesc
  return responseFallback(
    {
      status: desc.responseStatusCode,
      body: desc.responseContentBody,
      headers: (desc.responseAdditionalHeaders ?? []).map((h, i) => ({ name: h.key, value: h.value, field: `spec.behaviorDesc.responseAdditionalHeaders[${i}]` }))
    },
    { status: 'spec.behaviorDesc.responseStatusCode', body: 'spec.behaviorDesc.responseContentBody' },
    GOVERNANCE_DEFAULTS.opensergoFallbackStatus,
    report
  )
}

function faultToleranceRuleOf (rule: Extract<RuleResource, { kind: 'FaultToleranceRule' }>, report: Report): NormalizedRule | undefined {
  const spec: FaultToleranceRuleSpec = rule.spec
  let ok = true
  const fail: Report = (field, message) => { ok = false; report(field, message) }
  const selector = selectorOf(rule)
  if (selector === undefined) fail('spec.selector', 'required: the app the rule applies to, as spec.selector.app or metadata.labels.app (functions are matched by their app label)')
  const routes: RouteMatch[] = []
  const seenRoutes = new Map<string, number>()
  spec.targets.forEach((target, i) => {
    const route = parseRoute(target.targetResourceName, `spec.targets[${i}].targetResourceName`, fail)
    if (route === undefined) return
    const text = formatRoute(route)
    const first = seenRoutes.get(text)
    if (first !== undefined) fail(`spec.targets[${i}].targetResourceName`, `${show(target.targetResourceName)} is listed twice (also at spec.targets[${first}])`)
    seenRoutes.set(text, i)
    routes.push(route)
  })
  const seenRefs = new Map<string, number>()
  spec.strategies.forEach((ref, i) => {
    const key = `${ref.kind ?? ''}/${ref.name}`
    const first = seenRefs.get(key)
    if (first !== undefined) fail(`spec.strategies[${i}]`, `${ref.name} is listed twice (also at spec.strategies[${first}])`)
    seenRefs.set(key, i)
    if (ref.kind !== undefined && !isStrategyKind(ref.kind)) fail(`spec.strategies[${i}].kind`, `expected ${STRATEGY_KINDS.join(', ')}, got ${show(ref.kind)}`)
  })
  const fallback = fallbackRefOf(spec, fail)
  if (!ok) return undefined
  return { kind: 'FaultToleranceRule', selector, routes, strategies: spec.strategies.map((r) => ({ ...r })), fallback }
}

function fallbackRefOf (spec: FaultToleranceRuleSpec, report: Report): RuleRef | undefined {
  if (spec.fallbackAction !== undefined && spec.action !== undefined) {
    report('spec.action', 'give the fallback once: fallbackAction (the spec) or action (the proto), not both')
    return undefined
  }
  const written = spec.fallbackAction ?? spec.action
  const field = spec.action !== undefined ? 'spec.action' : 'spec.fallbackAction'
  if (written === undefined) return undefined
  const ref = typeof written === 'string' ? { name: written } : { ...written }
  if (ref.kind !== undefined && ref.kind !== FALLBACK_KIND) {
    report(`${field}.kind`, `expected ${JSON.stringify(FALLBACK_KIND)}, got ${show(ref.kind)}`)
    return undefined
  }
  return ref
}

function trafficLabelRuleOf (rule: Extract<RuleResource, { kind: 'TrafficLabelRule' }>, report: Report): NormalizedRule | undefined {
  const spec: TrafficLabelRuleSpec = rule.spec
  let ok = true
  const fail: Report = (field, message) => { ok = false; report(field, message) }
  const selector = selectorOf(rule)
  if (selector === undefined) fail('spec.selector', 'required: the app the rule applies to, as spec.selector.app or metadata.labels.app (functions are matched by their app label)')
  const lane = typeof spec.lane === 'string' ? spec.lane : spec.lane.name
  const list = Array.isArray(spec.match)
  const matches = (list ? spec.match as HttpMatchSpec[] : [spec.match as HttpMatchSpec])
    .map((m, i) => httpMatchOf(m, list ? `spec.match[${i}]` : 'spec.match', fail))
  if (!ok) return undefined
  return { kind: 'TrafficLabelRule', selector, lane, matches: matches as LaneConditions[] }
}

function httpMatchOf (match: HttpMatchSpec, field: string, report: Report): LaneConditions | undefined {
  const conditions: LaneConditions = {
    headers: parseNamedMatches(match.headers, `${field}.headers`, report, { lowerCase: true }),
    cookies: parseNamedMatches(match.cookies, `${field}.cookies`, report),
    query: parseNamedMatches(match.queryParams, `${field}.queryParams`, report)
  }
  if (match.uri !== undefined) {
    const path = parseStringMatch(match.uri, `${field}.uri`, report)
    if (path === undefined) return undefined
    conditions.path = path
  }
  const counted = Object.keys(match.headers ?? {}).length + Object.keys(match.cookies ?? {}).length + Object.keys(match.queryParams ?? {}).length + (match.uri === undefined ? 0 : 1)
  if (counted === 0) {
    report(field, 'a match needs at least one of headers, cookies, queryParams or uri: an empty one would label every request')
    return undefined
  }
  return conditions
}
