// Governance: the compiled policy model and the algorithms the gateway's
// filters run on it. Every algorithm is pure and takes the time as `now`
// (ms on a monotonic scale, e.g. performance.now()), read once per request by
// the caller; none does I/O or sets a timer.
export type {
  ApiKeyRecord, BreakerPolicy, CallerAuth, ConcurrencyPolicy, Fallback, FunctionPolicy, GovernanceRule, JwtKey, LaneMatch,
  LimitKey, RateLimitPolicy, RejectCause, RetryPolicy, RouteMatch, RuleProblem, Strategy, StringMatch, ThrottlePolicy
} from './policy.js'
export { fullJitterBackoffMs, RECOVERY_JITTER, recoveryBackoffMs } from './backoff.js'
export { BucketWindow } from './bucket-window.js'
export { BREAKER_REFUSED, CircuitBreaker } from './circuit-breaker.js'
export type { BreakerOptions, BreakerSnapshot, BreakerState, BreakerTransition, CallOutcome } from './circuit-breaker.js'
export { ConcurrencyLimiter } from './concurrency-limiter.js'
export { createKeyedRateLimiter, createKeyedThrottle, createRateLimiter, createThrottle } from './create-rate-limiter.js'
export { FixedWindowLimiter } from './fixed-window.js'
export { KeyedLimiter } from './keyed-limiter.js'
export type { KeyedState } from './keyed-limiter.js'
export type { RateLimiter } from './rate-limiter.js'
export {
  delaySeconds, formatRateLimit, formatRateLimitPolicy, RateLimitHeaderItem, retryAfterSeconds, sfString, windowSeconds
} from './ratelimit-headers.js'
export type { QuotaPolicyItem, QuotaUnit } from './ratelimit-headers.js'
export { RETRY_BUDGET_BUCKET_MS, RETRY_BUDGET_BUCKETS, RetryBudget } from './retry-budget.js'
export { RouteTable, routeMatches } from './route-table.js'
export type { RouteTableEntry } from './route-table.js'
export { SlidingWindowLimiter } from './sliding-window.js'
export { Throttle, THROTTLE_REFUSED } from './throttle.js'
export { TokenBucketLimiter } from './token-bucket.js'
export { MAX_REGEX_INPUT, MAX_REGEX_LENGTH, unsafeRegexReason } from './safe-regex.js'
