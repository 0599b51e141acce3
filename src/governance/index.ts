export type {
  ApiKeyRecord, BreakerPolicy, CallerAuth, ConcurrencyPolicy, Fallback, FunctionPolicy, GovernanceRule, JwtKey, LaneMatch,
  LimitKey, RateLimitPolicy, RejectCause, RetryPolicy, RouteMatch, RuleProblem, Strategy, StringMatch, ThrottlePolicy
} from './policy.js'
