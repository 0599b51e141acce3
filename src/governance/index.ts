// The governance part's public face: the policy model the gateway reads, the
// rule kinds as users write them, and the compiler from one to the other.
// Pure code: no I/O, nothing from other parts but errors.
export type {
  ApiKeyRecord, BreakerPolicy, CallerAuth, ConcurrencyPolicy, Fallback, FunctionPolicy, GovernanceRule, JwtKey, LaneMatch,
  LimitKey, RateLimitPolicy, RejectCause, RetryPolicy, RouteMatch, RuleProblem, Strategy, StringMatch, ThrottlePolicy
} from './policy.js'
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
