// One line for a person per rule, strategy, fallback and lane: the CLI's
// tables and `roost describe function` print these.

import { formatMs } from './durations.js'
import { formatLimitKey } from './limit-key.js'
import { normalizeRule } from './opensergo.js'
import type { Fallback, GovernanceRule, LaneMatch, RetryPolicy, Strategy } from './policy.js'
import { formatRatio } from './ratio.js'
import { formatRoute } from './route-match.js'
import type { RuleRef, RuleResource } from './rule-kinds.js'
import { formatStringMatch } from './string-match.js'

/** `10 per 1s`, `429 "Blocked by Sentinel" +1 header`, `app=foo-app /foo: rate-limit-foo → fallback-foo`. */
export function summarizeRule (rule: RuleResource): string {
  let firstProblem: string | undefined
  const normalized = normalizeRule(rule, (field, message) => { firstProblem ??= `${field}: ${message}` })
  if (normalized === undefined) return `<cannot apply: ${firstProblem ?? 'unreadable spec'}>`
  switch (normalized.kind) {
    case 'HttpRequestFallbackAction': return describeFallback(normalized.fallback)
    case 'FaultToleranceRule': {
      const refs = normalized.strategies.map((r) => r.name).join(', ')
      const fallback = normalized.fallback === undefined ? '' : ` → ${normalized.fallback.name}`
      return `${selectorText(normalized.selector)} ${normalized.routes.map(formatRoute).join(',')}: ${refs}${fallback}`
    }
    case 'TrafficLabelRule':
      return `${selectorText(normalized.selector)} → lane ${normalized.lane} when ${normalized.matches.map((m) => describeConditions({ lane: normalized.lane, id: '', ...m })).join(' or ')}`
    default:
      return describeStrategy(normalized.strategy, false)
  }
}

export function describeStrategy (strategy: Strategy, named = true): string {
  const name = named ? ` (${strategy.name})` : ''
  switch (strategy.kind) {
    case 'rate-limit': {
      const burst = strategy.algorithm === 'token-bucket' && strategy.burst > 0 ? ` + burst ${strategy.burst}` : ''
      return `${strategy.limit} per ${formatMs(strategy.windowMs)}${burst}, ${strategy.algorithm}, per ${formatLimitKey(strategy.key)}${name}`
    }
    case 'throttle':
      return `1 per ${formatMs(strategy.intervalMs)}, queued at most ${formatMs(strategy.maxQueueingMs)}, per ${formatLimitKey(strategy.key)}${name}`
    case 'concurrency':
      return `at most ${strategy.limit} in flight${name}`
    case 'breaker': {
      const what = strategy.trigger === 'error-count'
        ? `${strategy.threshold} errors`
        : `${formatRatio(strategy.threshold)} ${strategy.trigger === 'slow-ratio' ? `slower than ${formatMs(strategy.slowMs)}` : 'errors'}`
      return `breaker at ${what} over ${formatMs(strategy.windowMs)} (min ${strategy.minRequests}), open ${formatMs(strategy.recoveryMs)} up to ${formatMs(strategy.maxRecoveryMs)}, ${strategy.probes} probes${name}`
    }
  }
}

export function describeFallback (fallback: Fallback): string {
  if (fallback.kind === 'function') return `call ${fallback.name}${fallback.version === undefined ? '' : ` v${fallback.version}`}`
  const headers = fallback.headers.length === 0 ? '' : ` +${fallback.headers.length} header${fallback.headers.length === 1 ? '' : 's'}`
  const body = fallback.body === '' ? '' : ` ${JSON.stringify(fallback.body.length > 40 ? `${fallback.body.slice(0, 40)}…` : fallback.body)}`
  return `${fallback.status}${body}${headers}`
}

/** `/foo, GET:/bar` or `every route`. */
export function describeRoutes (rule: GovernanceRule): string {
  return rule.routes.length === 0 ? 'every route' : rule.routes.map(formatRoute).join(', ')
}

export function describeConditions (lane: LaneMatch): string {
  const parts = [
    ...lane.headers.map((h) => `header ${h.name} ${formatStringMatch(h.match)}`),
    ...lane.cookies.map((c) => `cookie ${c.name} ${formatStringMatch(c.match)}`),
    ...lane.query.map((q) => `query ${q.name} ${formatStringMatch(q.match)}`),
    ...(lane.path === undefined ? [] : [`path ${formatStringMatch(lane.path)}`])
  ]
  return parts.join(' and ')
}

export function describeRetry (retry: RetryPolicy): string {
  if (retry.attempts <= 1) return 'no retries'
  return `${retry.attempts} attempts, backoff ${formatMs(retry.baseMs)} to ${formatMs(retry.capMs)}, budget ${formatRatio(retry.budgetRatio)} of requests (at least ${retry.budgetMinPerSecond}/s)`
}

/** The strategies and fallback a rule names, for messages that check them against a file. */
export function referencesOf (rule: RuleResource): Array<RuleRef & { field: string }> {
  if (rule.kind !== 'FaultToleranceRule') return []
  const refs: Array<RuleRef & { field: string }> = rule.spec.strategies.map((r, i) => ({ ...r, field: `spec.strategies[${i}]` }))
  const fallback = rule.spec.fallbackAction ?? rule.spec.action
  if (fallback !== undefined) {
    const field = rule.spec.action !== undefined ? 'spec.action' : 'spec.fallbackAction'
    refs.push({ ...(typeof fallback === 'string' ? { name: fallback } : fallback), kind: 'HttpRequestFallbackAction', field })
  }
  return refs
}

function selectorText (selector: Record<string, string> | undefined): string {
  if (selector === undefined) return '<no app>'
  return Object.entries(selector).map(([k, v]) => `${k}=${v}`).join(',')
}

