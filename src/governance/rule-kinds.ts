// The governance rules as users write them: the OpenSergo kinds, with every
// spelling the published sources use (the en and zh specs, the CRDs, the
// control plane's samples, the proto's JSON names), and a Function's own
// `spec.governance`. The API validates documents into these shapes; the
// compiler turns them into FunctionPolicy. Nothing here is normalised yet:
// what is stored is what was written, so that `roost get -o yaml` shows it.

export const FAULT_TOLERANCE_API_VERSION = 'fault-tolerance.opensergo.io/v1alpha1'
export const TRAFFIC_API_VERSION = 'traffic.opensergo.io/v1alpha1'

export const STRATEGY_KINDS = ['RateLimitStrategy', 'ThrottlingStrategy', 'ConcurrencyLimitStrategy', 'CircuitBreakerStrategy'] as const
export type StrategyKind = typeof STRATEGY_KINDS[number]

export const FALLBACK_KIND = 'HttpRequestFallbackAction'
export const FAULT_TOLERANCE_RULE_KIND = 'FaultToleranceRule'
export const TRAFFIC_LABEL_RULE_KIND = 'TrafficLabelRule'

export const RULE_KINDS = [...STRATEGY_KINDS, FALLBACK_KIND, FAULT_TOLERANCE_RULE_KIND, TRAFFIC_LABEL_RULE_KIND] as const
export type RuleKind = typeof RULE_KINDS[number]

export function isRuleKind (kind: unknown): kind is RuleKind {
  return typeof kind === 'string' && (RULE_KINDS as readonly string[]).includes(kind)
}

export function isStrategyKind (kind: unknown): kind is StrategyKind {
  return typeof kind === 'string' && (STRATEGY_KINDS as readonly string[]).includes(kind)
}

export function apiVersionOf (kind: RuleKind): string {
  return kind === TRAFFIC_LABEL_RULE_KIND ? TRAFFIC_API_VERSION : FAULT_TOLERANCE_API_VERSION
}

/** The proto's `TimeUnit` enum, as its JSON mapping spells it. */
export const TIME_UNITS = ['MILLISECOND', 'SECOND', 'MINUTE', 'HOUR', 'DAY'] as const
export type TimeUnitName = typeof TIME_UNITS[number]

/** "Control the request volume per unit time": at most `threshold` requests per stat window. */
export interface RateLimitStrategySpec {
  metricType?: 'RequestAmount'
  /** Local, Global or GlobalToLocal: on one gateway every mode limits the function's total. */
  limitMode?: 'Local' | 'Global' | 'GlobalToLocal'
  /** A double in the spec, an int64 in the CRD: either is taken. */
  threshold: number
  /** The en spec: a duration such as "1s"; the proto's JSON mapping: an integer with statDurationTimeUnit. */
  statDuration?: string | number
  statDurationTimeUnit?: TimeUnitName
  /** The zh spec and the CRD: whole seconds. */
  statDurationSeconds?: number
  /** The proto's field names. */
  stat_duration?: number
  stat_duration_time_unit?: TimeUnitName
}

/** Uniform pacing with a bounded queue (leaky bucket). */
export interface ThrottlingStrategySpec {
  minIntervalOfRequests: string
  queueTimeout?: string
}

export interface ConcurrencyLimitStrategySpec {
  maxConcurrency: number
  limitMode?: 'Local' | 'Global'
}

export interface CircuitBreakerStrategySpec {
  strategy: 'SlowRequestRatio' | 'ErrorRequestRatio'
  /** "60%" (the CRD) or a number in [0, 1] (the proto). */
  triggerRatio: string | number
  statDuration: string
  recoveryTimeout: string
  minRequestAmount?: number
  slowConditions?: { maxAllowedRt: string }
  /** The spec's error type; what counts as an error is fixed by the gateway (5xx, timeout, crash). */
  errorConditions?: { errorType?: string }
}

export interface HttpRequestFallbackActionSpec {
  behavior: 'ReturnProvidedResponse'
  behaviorDesc: {
    responseStatusCode?: number
    responseContentBody?: string
    responseAdditionalHeaders?: Array<{ key: string, value: string }>
  }
}

/** A strategy or action by name; `kind` is required by the CRD, absent in the spec. */
export interface RuleRef {
  name: string
  kind?: string
}

export interface FaultToleranceRuleSpec {
  /** The spec's selector (the CRD has none: the control plane reads metadata.labels.app). */
  selector?: Record<string, string>
  targets: Array<{ targetResourceName: string }>
  strategies: RuleRef[]
  /** The spec: a name. */
  fallbackAction?: string | RuleRef
  /** The proto's FaultToleranceActionRef. */
  action?: RuleRef
}

/** OpenSergo's StringMatch: one of exact, prefix or regex (a number is read as its text). */
export interface StringMatchSpec {
  exact?: string | number
  prefix?: string
  regex?: string
}

/** OpenSergo's HttpRequestMatch (its older RouterRule draft), with cookies added. */
export interface HttpMatchSpec {
  headers?: Record<string, StringMatchSpec>
  cookies?: Record<string, StringMatchSpec>
  queryParams?: Record<string, StringMatchSpec>
  uri?: StringMatchSpec
}

/** Labels traffic into a lane: requests that match go to the traffic entry naming that lane. */
export interface TrafficLabelRuleSpec {
  selector?: Record<string, string>
  /** The lane's name; the TrafficLane draft writes `lane: { name }`. */
  lane: string | { name: string }
  /** One match, or several of which any labels the request. */
  match: HttpMatchSpec | HttpMatchSpec[]
}

export interface RuleSpecs {
  RateLimitStrategy: RateLimitStrategySpec
  ThrottlingStrategy: ThrottlingStrategySpec
  ConcurrencyLimitStrategy: ConcurrencyLimitStrategySpec
  CircuitBreakerStrategy: CircuitBreakerStrategySpec
  HttpRequestFallbackAction: HttpRequestFallbackActionSpec
  FaultToleranceRule: FaultToleranceRuleSpec
  TrafficLabelRule: TrafficLabelRuleSpec
}

/** A rule resource as stored: one of the kinds above in one namespace. */
export type RuleResource = { [K in RuleKind]: { kind: K, namespace: string, name: string, labels: Record<string, string>, spec: RuleSpecs[K] } }[RuleKind]

// ---------------------------------------------------------------------------
// a Function's spec.governance

export type FallbackCause = 'rateLimited' | 'concurrencyLimited' | 'breakerOpen' | 'overloaded' | 'timedOut'
export const FALLBACK_CAUSES: readonly FallbackCause[] = ['rateLimited', 'concurrencyLimited', 'breakerOpen', 'overloaded', 'timedOut']

/** A provided response (status, body, headers) or another function (or a version of it) to call. */
export interface FallbackSpec {
  status?: number
  body?: string
  headers?: Record<string, string>
  function?: string
  version?: number
}

export type FallbacksSpec = Partial<Record<FallbackCause, FallbackSpec>>

export interface RateLimitSpec {
  algorithm?: 'fixed-window' | 'sliding-window' | 'token-bucket'
  limit: number
  window?: string
  burst?: number
  /** function, route, caller, ip, header:NAME or query:NAME */
  key?: string
  maxKeys?: number
}

export interface ThrottleSpec {
  interval: string
  maxQueueing?: string
  key?: string
  maxKeys?: number
}

export interface BreakerSpec {
  trigger?: 'error-ratio' | 'slow-ratio' | 'error-count'
  /** Ratios: a number in [0, 1] or "50%"; error-count: a whole number. */
  threshold: number | string
  slow?: string
  window?: string
  buckets?: number
  minRequests?: number
  recovery?: string
  maxRecovery?: string
  probes?: number
  ramp?: { percent?: number, interval?: string }
}

export interface InlineRuleSpec {
  name?: string
  /** `/foo`, `GET:/foo`, `/api/*`; absent: every route. */
  routes?: string[]
  rateLimit?: RateLimitSpec
  throttle?: ThrottleSpec
  concurrency?: { limit: number }
  breaker?: BreakerSpec
  fallbacks?: FallbacksSpec
}

export interface RetriesSpec {
  attempts?: number
  backoff?: { base?: string, cap?: string }
  budget?: { ratio?: number | string, minPerSecond?: number }
}

export interface LaneSpec {
  lane: string
  headers?: Record<string, StringMatchSpec>
  cookies?: Record<string, StringMatchSpec>
  query?: Record<string, StringMatchSpec>
  path?: StringMatchSpec
}

export interface GovernanceSpec {
  rules?: InlineRuleSpec[]
  /** For every rule and route of the function; a rule's own fallback for a cause wins. */
  fallbacks?: FallbacksSpec
  retries?: RetriesSpec
  lanes?: LaneSpec[]
}

/** What the compiler needs of a Function. */
export interface GovernedFunction {
  namespace: string
  name: string
  labels: Record<string, string>
  governance?: GovernanceSpec
}

/** `namespace/name`: the key of RoutedFunction and of compilePolicies' map. */
export function functionKey (fn: { namespace: string, name: string }): string {
  return `${fn.namespace}/${fn.name}`
}

/** `Kind/namespace/name`: the key of a rule resource. */
export function ruleKey (rule: { kind: string, namespace: string, name: string }): string {
  return `${rule.kind}/${rule.namespace}/${rule.name}`
}
