// A Function's own `spec.governance` to the policy model. Durations are in the
// Function's dialect ("500ms", "1s", "5m"); every default comes from
// GOVERNANCE_DEFAULTS. Unlike an OpenSergo rule, whose targets are separate
// Sentinel resources, an inline rule is one scope: with the default key
// (function) its routes share one counter; `key: route` counts them apart.

import { GOVERNANCE_BOUNDS, GOVERNANCE_DEFAULTS } from './defaults.js'
import { roostDuration, show, type Report } from './durations.js'
import { parseLimitKey } from './limit-key.js'
import { defaultBuckets } from './opensergo.js'
import type {
  BreakerPolicy, Fallback, GovernanceRule, LaneMatch, RateLimitPolicy, RejectCause, RetryPolicy, RouteMatch, Strategy, ThrottlePolicy
} from './policy.js'
import { parseRatio } from './ratio.js'
import { responseFallback } from './response-fallback.js'
import { formatRoute, parseRoute } from './route-match.js'
import {
  FALLBACK_CAUSES, type BreakerSpec, type FallbackCause, type FallbacksSpec, type GovernanceSpec, type InlineRuleSpec,
  type LaneSpec, type RateLimitSpec, type RetriesSpec, type ThrottleSpec
} from './rule-kinds.js'
import { parseNamedMatches, parseStringMatch } from './string-match.js'

export const CAUSE_OF: Record<FallbackCause, RejectCause> = {
  rateLimited: 'rate-limited',
  concurrencyLimited: 'concurrency-limited',
  breakerOpen: 'breaker-open',
  overloaded: 'overloaded',
  timedOut: 'timed-out'
}

const BASE = 'spec.governance'

export interface InlineGovernance {
  rules: GovernanceRule[]
  /** spec.governance.fallbacks: for every rule of the function, and for requests no rule matches. */
  fallbacks: Partial<Record<RejectCause, Fallback>>
  retry: RetryPolicy
  lanes: LaneMatch[]
  /** The functions fallbacks call, for the compiler to check that they exist. */
  calls: Array<{ name: string, field: string, rule: string }>
}

export function compileInline (spec: GovernanceSpec | undefined, report: Report): InlineGovernance {
  const calls: InlineGovernance['calls'] = []
  const rules: GovernanceRule[] = []
  const names = new Map<string, number>()
  ;(spec?.rules ?? []).forEach((rule, i) => {
    const field = `${BASE}.rules[${i}]`
    if (rule.name !== undefined) {
      const first = names.get(rule.name)
      if (first !== undefined) report(`${field}.name`, `${show(rule.name)} is used twice (also at ${BASE}.rules[${first}])`)
      names.set(rule.name, i)
    }
    const compiled = inlineRule(rule, i, field, report, calls)
    if (compiled !== undefined) rules.push(compiled)
  })
  return {
    rules,
    fallbacks: fallbacksOf(spec?.fallbacks, `${BASE}.fallbacks`, `${BASE}.fallbacks`, report, calls),
    retry: retryOf(spec?.retries, `${BASE}.retries`, report),
    lanes: (spec?.lanes ?? []).flatMap((lane, i) => laneOf(lane, `${BASE}.lanes[${i}]`, report) ?? []),
    calls
  }
}

function inlineRule (rule: InlineRuleSpec, index: number, field: string, report: Report, calls: InlineGovernance['calls']): GovernanceRule | undefined {
  const id = field
  const name = rule.name ?? `rule-${index}`
  if (rule.rateLimit === undefined && rule.throttle === undefined && rule.concurrency === undefined && rule.breaker === undefined && rule.fallbacks === undefined) {
    report(field, 'a rule needs rateLimit, throttle, concurrency, breaker or fallbacks')
    return undefined
  }
  const routes: RouteMatch[] = []
  const seen = new Map<string, number>()
  ;(rule.routes ?? []).forEach((written, i) => {
    const route = parseRoute(written, `${field}.routes[${i}]`, report)
    if (route === undefined) return
    const first = seen.get(formatRoute(route))
    if (first !== undefined) report(`${field}.routes[${i}]`, `${show(written)} is listed twice (also at ${field}.routes[${first}])`)
    seen.set(formatRoute(route), i)
    routes.push(route)
  })
  const strategies: Strategy[] = []
  const add = (strategy: Strategy | undefined): void => { if (strategy !== undefined) strategies.push(strategy) }
  if (rule.rateLimit !== undefined) add(rateLimitOf(name, rule.rateLimit, `${field}.rateLimit`, report))
  if (rule.throttle !== undefined) add(throttleOf(name, rule.throttle, `${field}.throttle`, report))
  if (rule.concurrency !== undefined) add({ kind: 'concurrency', name, limit: rule.concurrency.limit })
  if (rule.breaker !== undefined) add(breakerOf(name, rule.breaker, `${field}.breaker`, report))
  return { id, routes, strategies, fallbacks: fallbacksOf(rule.fallbacks, `${field}.fallbacks`, id, report, calls) }
}

function rateLimitOf (name: string, spec: RateLimitSpec, field: string, report: Report): RateLimitPolicy | undefined {
  const d = GOVERNANCE_DEFAULTS.rateLimit
  const algorithm = spec.algorithm ?? d.algorithm
  const windowMs = roostDuration(spec.window ?? d.window, `${field}.window`, report)
  const key = parseLimitKey(spec.key ?? d.key, `${field}.key`, report)
  if (spec.burst !== undefined && spec.burst > 0 && algorithm !== 'token-bucket') {
    report(`${field}.burst`, `a burst is for algorithm token-bucket; ${algorithm} admits at most the limit per window`)
    return undefined
  }
  if (windowMs === undefined || key === undefined) return undefined
  return { kind: 'rate-limit', name, algorithm, limit: spec.limit, windowMs, burst: spec.burst ?? d.burst, key, maxKeys: spec.maxKeys ?? d.maxKeys }
}

function throttleOf (name: string, spec: ThrottleSpec, field: string, report: Report): ThrottlePolicy | undefined {
  const d = GOVERNANCE_DEFAULTS.throttle
  const intervalMs = roostDuration(spec.interval, `${field}.interval`, report)
  const maxQueueingMs = spec.maxQueueing === undefined ? d.maxQueueingMs : roostDuration(spec.maxQueueing, `${field}.maxQueueing`, report, { allowZero: true })
  const key = parseLimitKey(spec.key ?? GOVERNANCE_DEFAULTS.rateLimit.key, `${field}.key`, report)
  if (intervalMs === undefined || maxQueueingMs === undefined || key === undefined) return undefined
  return { kind: 'throttle', name, intervalMs, maxQueueingMs, key, maxKeys: spec.maxKeys ?? d.maxKeys }
}

function breakerOf (name: string, spec: BreakerSpec, field: string, report: Report): BreakerPolicy | undefined {
  const d = GOVERNANCE_DEFAULTS.breaker
  const trigger = spec.trigger ?? d.trigger
  let ok = true
  const fail: Report = (f, message) => { ok = false; report(f, message) }
  let threshold: number | undefined
  if (trigger === 'error-count') {
    if (typeof spec.threshold === 'number' && Number.isInteger(spec.threshold) && spec.threshold >= 1) threshold = spec.threshold
    else fail(`${field}.threshold`, `with trigger error-count the threshold is a count of errors (a whole number ≥ 1), got ${show(spec.threshold)}`)
  } else {
    threshold = parseRatio(spec.threshold, `${field}.threshold`, fail)
  }
  let slowMs = 0
  if (trigger === 'slow-ratio') {
    if (spec.slow === undefined) fail(`${field}.slow`, 'required with trigger slow-ratio: a call that takes longer than this is slow, such as "500ms"')
    else slowMs = roostDuration(spec.slow, `${field}.slow`, fail) ?? 0
  } else if (spec.slow !== undefined) {
    fail(`${field}.slow`, `slow is for trigger slow-ratio; this breaker counts ${trigger === 'error-count' ? 'errors' : 'the ratio of errors'}`)
  }
  const windowMs = roostDuration(spec.window ?? `${d.windowMs}ms`, `${field}.window`, fail) ?? 0
  const recoveryMs = roostDuration(spec.recovery ?? `${d.recoveryMs}ms`, `${field}.recovery`, fail) ?? 0
  const maxRecoveryMs = spec.maxRecovery === undefined ? Math.max(recoveryMs, d.maxRecoveryMs) : roostDuration(spec.maxRecovery, `${field}.maxRecovery`, fail) ?? 0
  if (ok && maxRecoveryMs < recoveryMs) fail(`${field}.maxRecovery`, `${spec.maxRecovery as string} is shorter than recovery (${spec.recovery ?? `${d.recoveryMs}ms`}); the open time only grows`)
  const buckets = spec.buckets ?? defaultBuckets(windowMs)
  if (ok && buckets > windowMs) fail(`${field}.buckets`, `${buckets} buckets do not fit a window of ${windowMs} ms: a bucket is at least 1 ms`)
  const rampIntervalMs = roostDuration(spec.ramp?.interval ?? `${d.rampIntervalMs}ms`, `${field}.ramp.interval`, fail) ?? 0
  if (!ok || threshold === undefined) return undefined
  return {
    kind: 'breaker',
    name,
    trigger,
    threshold,
    slowMs,
    windowMs,
    buckets,
    minRequests: spec.minRequests ?? d.minRequests,
    recoveryMs,
    maxRecoveryMs,
    probes: spec.probes ?? d.probes,
    rampPercent: spec.ramp?.percent ?? d.rampPercent,
    rampIntervalMs
  }
}

function fallbacksOf (spec: FallbacksSpec | undefined, field: string, rule: string, report: Report, calls: InlineGovernance['calls']): Partial<Record<RejectCause, Fallback>> {
  const result: Partial<Record<RejectCause, Fallback>> = {}
  for (const cause of FALLBACK_CAUSES) {
    const written = spec?.[cause]
    if (written === undefined) continue
    const at = `${field}.${cause}`
    const response = written.status !== undefined || written.body !== undefined || written.headers !== undefined
    if (written.function !== undefined) {
      if (response) {
        report(at, 'a fallback is a response (status, body, headers) or a function to call, not both')
        continue
      }
      calls.push({ name: written.function, field: `${at}.function`, rule })
      result[CAUSE_OF[cause]] = written.version === undefined ? { kind: 'function', name: written.function } : { kind: 'function', name: written.function, version: written.version }
      continue
    }
    if (written.version !== undefined) {
      report(`${at}.version`, 'a version goes with function: the version of that function to call')
      continue
    }
    const fallback = responseFallback(
      { status: written.status, body: written.body, headers: Object.entries(written.headers ?? {}).map(([name, value]) => ({ name, value, field: `${at}.headers` })) },
      { status: `${at}.status`, body: `${at}.body` },
      GOVERNANCE_DEFAULTS.fallbackStatus[CAUSE_OF[cause]],
      report
    )
    if (fallback !== undefined) result[CAUSE_OF[cause]] = fallback
  }
  return result
}

function retryOf (spec: RetriesSpec | undefined, field: string, report: Report): RetryPolicy {
  const d = GOVERNANCE_DEFAULTS.retry
  const baseMs = spec?.backoff?.base === undefined ? d.baseMs : roostDuration(spec.backoff.base, `${field}.backoff.base`, report) ?? d.baseMs
  const capMs = spec?.backoff?.cap === undefined ? d.capMs : roostDuration(spec.backoff.cap, `${field}.backoff.cap`, report) ?? d.capMs
  if (capMs < baseMs) report(`${field}.backoff.cap`, `the cap (${capMs} ms) is below the base (${baseMs} ms)`)
  // Without `retries` nothing an instance began is tried again, as before governance: a request that
  // crashed its instance may well crash the next one. Declaring `retries` (even `{}`) takes the defaults.
  const attempts = spec?.attempts ?? (spec === undefined ? 1 : d.attempts)
  if (attempts > GOVERNANCE_BOUNDS.attempts) report(`${field}.attempts`, `at most ${GOVERNANCE_BOUNDS.attempts} attempts`)
  const ratio = spec?.budget?.ratio === undefined ? d.budgetRatio : parseRatio(spec.budget.ratio, `${field}.budget.ratio`, report) ?? d.budgetRatio
  return { attempts, baseMs, capMs, budgetRatio: ratio, budgetMinPerSecond: spec?.budget?.minPerSecond ?? d.budgetMinPerSecond }
}

function laneOf (spec: LaneSpec, field: string, report: Report): LaneMatch | undefined {
  let ok = true
  const fail: Report = (f, message) => { ok = false; report(f, message) }
  const lane: LaneMatch = {
    lane: spec.lane,
    id: field,
    headers: parseNamedMatches(spec.headers, `${field}.headers`, fail, { lowerCase: true }),
    cookies: parseNamedMatches(spec.cookies, `${field}.cookies`, fail),
    query: parseNamedMatches(spec.query, `${field}.query`, fail)
  }
  if (spec.path !== undefined) {
    const path = parseStringMatch(spec.path, `${field}.path`, fail)
    if (path !== undefined) lane.path = path
  }
  const conditions = Object.keys(spec.headers ?? {}).length + Object.keys(spec.cookies ?? {}).length + Object.keys(spec.query ?? {}).length + (spec.path === undefined ? 0 : 1)
  if (conditions === 0) fail(field, 'a lane needs at least one of headers, cookies, query or path: an empty one would take every request')
  return ok ? lane : undefined
}
