import {
  BREAKER_REFUSED, CircuitBreaker, ConcurrencyLimiter, KeyedLimiter, RateLimitHeaderItem, RetryBudget, RouteTable, THROTTLE_REFUSED,
  Throttle, createRateLimiter, createThrottle, retryAfterSeconds,
  type BreakerSnapshot, type BreakerTransition, type CallOutcome, type Fallback, type FunctionPolicy, type GovernanceRule, type KeyBudget, type LimitKey,
  type KeyedState, type RateLimitPolicy, type RateLimiter, type RejectCause, type ThrottlePolicy
} from '../governance/index.js'
import { isHeaderName } from './header-name.js'
import { queryValue } from './query-value.js'

// The gateway's side of governance for one function: the live limiters,
// breakers and budgets built from its compiled policy, kept across routing
// table pushes while a rule stays the same (a push must not refill a limiter
// or close a breaker), and asked once per request. The algorithms themselves
// are in governance/; this file only decides which apply and in what order.

/** What a request offers the limits as keys. */
export interface GovernedRequest {
  method: string
  /** The path as the caller sent it, and as the function sees it: a rule's route may name either. */
  url: string
  functionPath: string
  caller: string
  ip: string
  rawHeaders: string[]
}

/** A request the rules refused, and how to answer it. */
export interface Rejection {
  cause: RejectCause
  /** The rule's id (the metric's `rule` label). */
  rule: string
  /** The strategy that refused. */
  strategy: string
  retryAfterMs: number
  fallback: Fallback | undefined
  /** `RateLimit-Policy` and `RateLimit` values for a refused rate limit, else undefined. */
  rateLimitPolicy: string | undefined
  rateLimit: string | undefined
  /** `function\0cause\0rule`: the rejections metric's key, made once per rule and cause. */
  metricKey: string
}

/**
 * What an admitted request holds until it finishes: concurrency slots and
 * breaker permits. The arrays are slots written up to a count and never
 * shortened, so a reused admission allocates nothing (`length = 0` would drop
 * their backing stores and the next request would grow them again).
 */
export interface Admission {
  slots: Array<ConcurrencyLimiter | null>
  slotCount: number
  breakers: Array<CircuitBreaker | null>
  /** The permit of `breakers[i]`. */
  permits: number[]
  breakerCount: number
  /** Ms the request waits (throttling) before it may go on. */
  waitMs: number
}

export interface GovernanceEvents {
  breaker (fn: string, rule: string, transition: BreakerTransition): void
  /** The first rejection of a burst (none of this rule and cause for BURST_GAP_MS before). */
  burst (fn: string, rejection: Rejection): void
}

/** Rejections of one rule and cause closer together than this are one burst: one event. */
const BURST_GAP_MS = 10_000
const NO_RULES: readonly RuleRuntime[] = []
/** Longest header or query value a keyed limit counts by. */
const MAX_KEY_LENGTH = 256

interface Limit<L extends KeyedState> {
  name: string
  key: LimitKey
  /** One limiter, or one per key value. */
  single: L | null
  keyed: KeyedLimiter<L> | null
}

/** The live parts of one rule. */
class RuleRuntime {
  readonly rates: Array<Limit<RateLimiter> & { header: RateLimitHeaderItem }> = []
  readonly throttles: Array<Limit<Throttle>> = []
  readonly concurrency: Array<{ name: string, limiter: ConcurrencyLimiter }> = []
  readonly breakers: CircuitBreaker[] = []
  /** Last rejection per cause, for burst events (-Infinity: none yet). */
  readonly lastRejection: Record<RejectCause, number> = { 'rate-limited': -Infinity, 'concurrency-limited': -Infinity, 'breaker-open': -Infinity, overloaded: -Infinity, 'timed-out': -Infinity }
  /** The rejections metric's key per cause. */
  readonly metricKeys: Record<RejectCause, string>
  rejected = 0

  constructor (readonly rule: GovernanceRule, readonly signature: string, fn: string, events: GovernanceEvents, now: number, budget: KeyBudget | null) {
    const metricKey = (cause: RejectCause): string => `${fn}\u0000${cause}\u0000${rule.id}`
    this.metricKeys = {
      'rate-limited': metricKey('rate-limited'),
      'concurrency-limited': metricKey('concurrency-limited'),
      'breaker-open': metricKey('breaker-open'),
      overloaded: metricKey('overloaded'),
      'timed-out': metricKey('timed-out')
    }
    for (const strategy of rule.strategies) {
      switch (strategy.kind) {
        case 'rate-limit':
          this.rates.push({ ...limitOf(strategy, () => createRateLimiter(strategy), budget), header: new RateLimitHeaderItem({ name: strategy.name, quota: strategy.limit, windowMs: strategy.windowMs }) })
          break
        case 'throttle':
          this.throttles.push(limitOf(strategy, () => createThrottle(strategy), budget))
          break
        case 'concurrency':
          this.concurrency.push({ name: strategy.name, limiter: new ConcurrencyLimiter(strategy.limit) })
          break
        case 'breaker':
          this.breakers.push(new CircuitBreaker(strategy, { now, onTransition: (transition) => events.breaker(fn, rule.id, transition) }))
          break
      }
    }
  }

  /** The rule went away: its keyed limits give their keys back to the budget. */
  release (): void {
    for (const limit of this.rates) limit.keyed?.release()
    for (const limit of this.throttles) limit.keyed?.release()
  }
}

function limitOf<L extends KeyedState> (policy: RateLimitPolicy | ThrottlePolicy, create: () => L, budget: KeyBudget | null): Limit<L> {
  if (policy.key.by === 'function') return { name: policy.name, key: policy.key, single: create(), keyed: null }
  return { name: policy.name, key: policy.key, single: null, keyed: new KeyedLimiter(policy.maxKeys, create, budget) }
}

/** The limiter a request counts against: the one of the limit, or the one of its key's value. */
function limiterFor<L extends KeyedState> (limit: Limit<L>, request: GovernedRequest, now: number): L {
  return limit.single ?? (limit.keyed as KeyedLimiter<L>).get(keyOf(limit.key, request), now)
}

/** The live state of one rule, for `roost describe function`. */
export interface RuleState {
  rule: string
  rejected: number
  rateLimits: Array<{ name: string, limit: number, windowMs: number, remaining: number | null, keys: number | null }>
  throttles: Array<{ name: string, queued: number | null, keys: number | null }>
  concurrency: Array<{ name: string, limit: number, inFlight: number }>
  breakers: BreakerSnapshot[]
}

export interface FunctionGovernanceState {
  rules: RuleState[]
  retryBudget: { requests: number, retries: number, remaining: number }
}

export class FunctionGovernance {
  private rules: RuleRuntime[] = []
  private table = new RouteTable<RuleRuntime>([])
  /** Every rule, frozen, when none names a route: each request meets them all, with no route to look up. */
  private everyRoute: readonly RuleRuntime[] | null = NO_RULES
  retryBudget: RetryBudget
  policy: FunctionPolicy

  /** `keyBudget`: what the function's keyed limits count their keys against (its namespace's share of the gateway's); none, maxKeys alone bounds them. */
  constructor (readonly fn: string, policy: FunctionPolicy, private readonly events: GovernanceEvents, now: number, private readonly keyBudget: KeyBudget | null = null) {
    this.policy = policy
    this.retryBudget = RetryBudget.of(policy.retry)
    this.update(policy, now)
  }

  /** The function's governance went away: every keyed limit gives its keys back. */
  release (): void {
    for (const rule of this.rules) rule.release()
    this.rules = []
    this.table = new RouteTable<RuleRuntime>([])
    this.everyRoute = NO_RULES
  }

  get hasRules (): boolean {
    return this.rules.length > 0
  }

  /** Whether a request an instance began may be tried again (the function declares `retries`). */
  get retries (): boolean {
    return this.policy.retry.attempts > 1
  }

  /** A new policy from a table push: rules that did not change keep their state. */
  update (policy: FunctionPolicy, now: number): void {
    const previous = new Map(this.rules.map((rule) => [rule.signature, rule]))
    const rules: RuleRuntime[] = []
    for (const rule of policy.rules) {
      const signature = JSON.stringify(rule)
      rules.push(previous.get(signature) ?? new RuleRuntime(rule, signature, this.fn, this.events, now, this.keyBudget))
    }
    const kept = new Set(rules)
    for (const rule of this.rules) if (!kept.has(rule)) rule.release()
    if (JSON.stringify(policy.retry) !== JSON.stringify(this.policy.retry)) this.retryBudget = RetryBudget.of(policy.retry)
    this.policy = policy
    this.rules = rules
    this.table = new RouteTable(rules.map((rule) => ({ routes: rule.rule.routes, value: rule })))
    this.everyRoute = rules.every((rule) => appliesEverywhere(rule.rule)) ? Object.freeze(rules.slice()) : null
  }

  /**
   * Runs the request through every rule that applies: breakers first (an open
   * one refuses before any quota is taken), then rate limits, throttles and
   * concurrency. Returns the admission to hand back through `finish`, or the
   * rejection; a refused request gives back what earlier strategies lent it.
   */
  admit (request: GovernedRequest, now: number, admission: Admission): Rejection | null {
    const every = this.everyRoute
    if (every !== null) {
      for (let r = 0; r < every.length; r++) {
        const rejection = this.admitRule(every[r], request, now, admission)
        if (rejection !== null) return rejection
      }
      return null
    }
    // A rule may name the path the function sees (`/`) or the one the caller
    // sent (`/foo`, its spec.http.path): both apply, though a rule for every
    // route matches the first, and a rule that matches both applies once.
    const byPath = this.table.match(request.method, request.functionPath)
    const byUrl = request.url === request.functionPath ? NO_RULES : this.table.match(request.method, request.url)
    for (let r = 0; r < byPath.length; r++) {
      const rejection = this.admitRule(byPath[r], request, now, admission)
      if (rejection !== null) return rejection
    }
    for (let r = 0; r < byUrl.length; r++) {
      if (byPath.includes(byUrl[r])) continue
      const rejection = this.admitRule(byUrl[r], request, now, admission)
      if (rejection !== null) return rejection
    }
    return null
  }

  private admitRule (rule: RuleRuntime, request: GovernedRequest, now: number, admission: Admission): Rejection | null {
    for (let i = 0; i < rule.breakers.length; i++) {
      const breaker = rule.breakers[i]
      const permit = breaker.tryAcquire(now)
      if (permit === BREAKER_REFUSED) return this.refuse(rule, 'breaker-open', breaker.policy.name, breaker.retryInMs(now), admission, now, undefined, undefined)
      admission.breakers[admission.breakerCount] = breaker
      admission.permits[admission.breakerCount++] = permit
    }
    for (let i = 0; i < rule.rates.length; i++) {
      const limit = rule.rates[i]
      const limiter = limiterFor(limit, request, now)
      if (!limiter.tryAcquire(now)) {
        const waitMs = limiter.msUntilMore(now)
        return this.refuse(rule, 'rate-limited', limit.name, waitMs, admission, now, limit.header.policy, limit.header.serviceLimit(0, waitMs))
      }
    }
    for (let i = 0; i < rule.throttles.length; i++) {
      const limit = rule.throttles[i]
      const throttle = limiterFor(limit, request, now)
      const wait = throttle.acquire(now)
      if (wait === THROTTLE_REFUSED) return this.refuse(rule, 'rate-limited', limit.name, throttle.msUntilMore(now), admission, now, undefined, undefined)
      if (wait > admission.waitMs) admission.waitMs = wait
    }
    for (let i = 0; i < rule.concurrency.length; i++) {
      const { name, limiter } = rule.concurrency[i]
      if (!limiter.tryAcquire()) return this.refuse(rule, 'concurrency-limited', name, 1000, admission, now, undefined, undefined)
      admission.slots[admission.slotCount++] = limiter
    }
    return null
  }

  /** Hands back what an admitted request held; `durationMs` is its own time on an instance (cold-start wait excluded). */
  finish (admission: Admission, outcome: CallOutcome, durationMs: number, now: number): void {
    // Each slot is cleared as it is handed back: a spare admission must not keep a removed rule's limiter alive.
    const slots = admission.slots
    for (let i = 0; i < admission.slotCount; i++) {
      (slots[i] as ConcurrencyLimiter).release()
      slots[i] = null
    }
    admission.slotCount = 0
    const breakers = admission.breakers
    for (let i = 0; i < admission.breakerCount; i++) {
      (breakers[i] as CircuitBreaker).record(admission.permits[i], now, outcome, durationMs)
      breakers[i] = null
    }
    admission.breakerCount = 0
  }

  /** The rule's fallback for a cause the gateway met itself (overloaded, timed out), if any rule of the route names one; routes as `admit` reads them. */
  fallbackFor (cause: RejectCause, method: string, functionPath: string, url: string): Fallback | undefined {
    if (this.everyRoute !== null) {
      for (const rule of this.everyRoute) if (rule.rule.fallbacks[cause] !== undefined) return rule.rule.fallbacks[cause]
      return undefined
    }
    const byPath = this.table.match(method, functionPath)
    const byUrl = this.table.match(method, url)
    for (const rule of this.rules) {
      const fallback = rule.rule.fallbacks[cause]
      if (fallback !== undefined && (byPath.includes(rule) || byUrl.includes(rule))) return fallback
    }
    return undefined
  }

  state (now: number): FunctionGovernanceState {
    return {
      rules: this.rules.map((rule) => ({
        rule: rule.rule.id,
        rejected: rule.rejected,
        rateLimits: rule.rates.map((limit) => ({
          name: limit.name,
          limit: (limit.single ?? (limit.keyed as KeyedLimiter<RateLimiter>).overflow).limit,
          windowMs: (limit.single ?? (limit.keyed as KeyedLimiter<RateLimiter>).overflow).windowMs,
          remaining: limit.single === null ? null : limit.single.remaining(now),
          keys: limit.keyed === null ? null : limit.keyed.size
        })),
        throttles: rule.throttles.map((limit) => ({
          name: limit.name,
          queued: limit.single === null ? null : limit.single.queued(now),
          keys: limit.keyed === null ? null : limit.keyed.size
        })),
        concurrency: rule.concurrency.map(({ name, limiter }) => ({ name, limit: limiter.limit, inFlight: limiter.inFlight })),
        breakers: rule.breakers.map((breaker) => breaker.snapshot(now))
      })),
      retryBudget: this.retryBudget.snapshot(now)
    }
  }

  /** Breaker states and limiter key counts, for the metrics. */
  forEachRule (visit: (rule: string, breakers: CircuitBreaker[], keys: number, rejected: number) => void): void {
    for (const rule of this.rules) {
      let keys = 0
      for (const limit of rule.rates) keys += limit.keyed?.size ?? 0
      for (const limit of rule.throttles) keys += limit.keyed?.size ?? 0
      visit(rule.rule.id, rule.breakers, keys, rule.rejected)
    }
  }

  private refuse (rule: RuleRuntime, cause: RejectCause, strategy: string, retryAfterMs: number, admission: Admission, now: number, rateLimitPolicy: string | undefined, rateLimit: string | undefined): Rejection {
    // What earlier strategies lent this request goes back; its breaker permits count for nothing.
    this.finish(admission, 'ignored', 0, now)
    admission.waitMs = 0
    rule.rejected++
    const rejection: Rejection = {
      cause,
      rule: rule.rule.id,
      strategy,
      retryAfterMs,
      fallback: rule.rule.fallbacks[cause],
      rateLimitPolicy,
      rateLimit,
      metricKey: rule.metricKeys[cause]
    }
    const last = rule.lastRejection[cause]
    rule.lastRejection[cause] = now
    if (now - last > BURST_GAP_MS) this.events.burst(this.fn, rejection)
    return rejection
  }
}

/** A rule that names no route, or only `/*` on every method, meets every request. */
function appliesEverywhere (rule: GovernanceRule): boolean {
  return rule.routes.every((route) => route.path === '/*' && route.method === undefined)
}

/** The value a keyed limit counts by. */
function keyOf (key: LimitKey, request: GovernedRequest): string {
  switch (key.by) {
    case 'function': return ''
    case 'route': return pathOf(request.functionPath)
    case 'caller': return request.caller
    case 'ip': return request.ip
    case 'header': return bounded(headerValue(request.rawHeaders, key.name) ?? '')
    case 'query': return bounded(queryValue(request.url, key.name) ?? '')
  }
}

/** A caller-chosen value is cut to MAX_KEY_LENGTH: a key names a counter, it is not a place to store 16 KiB per entry. */
function bounded (value: string): string {
  return value.length > MAX_KEY_LENGTH ? value.slice(0, MAX_KEY_LENGTH) : value
}

function pathOf (url: string): string {
  const query = url.indexOf('?')
  return query === -1 ? url : url.slice(0, query)
}

/** `name` is lower case. */
function headerValue (raw: string[], name: string): string | undefined {
  for (let i = 0; i < raw.length; i += 2) {
    if (isHeaderName(raw[i], name)) return raw[i + 1]
  }
  return undefined
}

/** Retry-After values up to a minute, made once: every refusal of a flood carries one. */
const RETRY_AFTER = Array.from({ length: 61 }, (_, seconds) => String(seconds))

/** Seconds for Retry-After: whole, at least 1, never earlier than the quota comes back. */
export function retryAfterHeader (ms: number): string {
  const seconds = retryAfterSeconds(ms)
  return RETRY_AFTER[seconds] ?? String(seconds)
}

/** The breaker outcome of a finished call, by what the caller was answered. */
export function outcomeOf (status: number, byGateway: boolean, callerGone: boolean): CallOutcome {
  if (callerGone) return 'ignored'
  // The gateway's own answers (429, 503 overloaded, not ready) say nothing of the function, but its 502 (crashed) and 504 (timed out) do.
  if (byGateway) return status === 502 || status === 504 ? 'failure' : 'ignored'
  return status >= 500 ? 'failure' : 'success'
}

export function newAdmission (): Admission {
  return { slots: [], slotCount: 0, breakers: [], permits: [], breakerCount: 0, waitMs: 0 }
}
