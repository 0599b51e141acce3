// Governance: the compiled policy model the gateway reads, the rule kinds as
// users write them and the compiler from one to the other, the algorithms the
// gateway's filters run, and caller identity. Pure code: every algorithm takes
// the time as `now` (ms on a monotonic scale), none does I/O or sets a timer.
export type {
  ApiKeyRecord, BreakerPolicy, CallerAuth, ConcurrencyPolicy, Fallback, FunctionPolicy, GovernanceRule, HmacAuth, JwtAlg, JwtKey, LaneMatch,
  LimitKey, RateLimitPolicy, RejectCause, RetryPolicy, RouteMatch, RuleProblem, Strategy, StringMatch, ThrottlePolicy
} from './policy.js'
export { fullJitterBackoffMs, RECOVERY_JITTER, recoveryBackoffMs } from './backoff.js'
export { BucketWindow } from './bucket-window.js'
export { BREAKER_REFUSED, CircuitBreaker } from './circuit-breaker.js'
export type { BreakerOptions, BreakerSnapshot, BreakerState, BreakerTransition, CallOutcome } from './circuit-breaker.js'
export { ConcurrencyLimiter } from './concurrency-limiter.js'
export { createKeyedRateLimiter, createKeyedThrottle, createRateLimiter, createThrottle } from './create-rate-limiter.js'
export { FixedWindowLimiter } from './fixed-window.js'
export { KeyBudget } from './key-budget.js'
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
// Caller identity (spec.http.auth): the schemes and the gateway's entry point.
export { ANONYMOUS, AUTH_HEADERS, CallerAuthenticator, DEFAULT_SIGNED_BODY_BYTES, emptyAuthFacts, scanAuthHeaders } from './authenticate.js'
export type { AuthFacts, AuthResult, AuthenticatorOptions } from './authenticate.js'
export { API_KEY_LENGTH, API_KEY_PREFIX, ApiKeyVerifier, apiKeyId, generateApiKey, hashApiKey, isApiKeyId } from './api-key.js'
export type { ApiKeyOutcome, GeneratedApiKey } from './api-key.js'
export { CALL_TOKEN_HEADER, PlatformCallKey } from './call-token.js'
export type { CallingFunction } from './call-token.js'
export {
  DEFAULT_REPLAY_CACHE_SIZE, DEFAULT_WEBHOOK_TOLERANCE_MS, WEBHOOK_SECRET_PREFIX, WebhookVerifier,
  decodeWebhookSecret, generateWebhookSecret, signWebhook, webhookSecretProblem
} from './hmac.js'
export type { WebhookFailure, WebhookOutcome, WebhookVerifierOptions } from './hmac.js'
export { JwtVerifier } from './jwt.js'
export type { JwtFailure, JwtOutcome, JwtVerifierOptions } from './jwt.js'
export { JWT_ALGS, isJwtAlg, readHmacSecret, readJwk, readJwtKey, readPem } from './jwt-key.js'
export type { KeyReading } from './jwt-key.js'
export { ReplayCache } from './replay-cache.js'
export type { ReplayVerdict } from './replay-cache.js'
export {
  FAULT_TOLERANCE_API_VERSION, TRAFFIC_API_VERSION, STRATEGY_KINDS, FALLBACK_KIND, FAULT_TOLERANCE_RULE_KIND, TRAFFIC_LABEL_RULE_KIND,
  RULE_KINDS, TIME_UNITS, FALLBACK_CAUSES, apiVersionOf, isRuleKind, isStrategyKind, functionKey, ruleKey
} from './rule-kinds.js'
export type {
  RuleKind, StrategyKind, TimeUnitName, RuleResource, RuleSpecs, RuleRef, RateLimitStrategySpec, ThrottlingStrategySpec,
  ConcurrencyLimitStrategySpec, CircuitBreakerStrategySpec, HttpRequestFallbackActionSpec, FaultToleranceRuleSpec,
  TrafficLabelRuleSpec, HttpMatchSpec, StringMatchSpec, GovernanceSpec, InlineRuleSpec, RateLimitSpec, ThrottleSpec,
  BreakerSpec, FallbackSpec, FallbacksSpec, FallbackCause, RetriesSpec, LaneSpec, GovernedFunction
} from './rule-kinds.js'
export { RULE_NAMES, rulePath, ruleKindNamed } from './rule-names.js'
export type { RuleNames } from './rule-names.js'
export { GOVERNANCE_DEFAULTS, GOVERNANCE_BOUNDS } from './defaults.js'
export { OPENSERGO_DURATION_PATTERN, MAX_RULE_DURATION_MS, formatMs } from './durations.js'
export type { Report } from './durations.js'
export { LIMIT_KEY_PATTERN } from './limit-key.js'
export { normalizeRule, selectorOf } from './opensergo.js'
export type { NormalizedRule } from './opensergo.js'
export { compileInline } from './inline.js'
export { compilePolicies, compileGovernance } from './compile.js'
export type { CompiledPolicy, CompileOptions, GovernanceCompilation, PolicySource, RuleStatus } from './compile.js'
export { summarizeRule, describeStrategy, describeFallback, describeRoutes, describeConditions, describeRetry, referencesOf } from './summaries.js'
