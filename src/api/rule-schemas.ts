// The OpenSergo kinds as documents: `fault-tolerance.opensergo.io/v1alpha1`
// RateLimitStrategy, ThrottlingStrategy, ConcurrencyLimitStrategy,
// CircuitBreakerStrategy, HttpRequestFallbackAction, FaultToleranceRule, and
// `traffic.opensergo.io/v1alpha1` TrafficLabelRule. Each accepts every
// spelling the published sources use (governance/rule-kinds.ts lists them);
// which spellings go together, and what they mean, the governance part's
// normalizeRule checks after the schema. Objects are closed, as a Function's
// are, so that a typo is reported instead of ignored.

import { Type, type Static, type TSchema } from '@sinclair/typebox'
import {
  FALLBACK_KIND, GOVERNANCE_BOUNDS, OPENSERGO_DURATION_PATTERN, STRATEGY_KINDS, TIME_UNITS, apiVersionOf,
  type RuleKind, type RuleSpecs
} from '../governance/index.js'
import { LaneNameSchema, NamedMatchesSchema, StringMatchSchema } from './governance-schema.js'
import { closed, DnsLabel, HEADER_NAME_PATTERN, LabelsSchema, PERCENT_PATTERN, StringEnum } from './schema-parts.js'

export const RULE_DEFAULT_NAMESPACE = 'default'

const Duration = (description: string) => Type.String({ description: `${description} A duration: "500ms", "1s", "5min", "1h", "1d" ("m" is refused as ambiguous).`, pattern: OPENSERGO_DURATION_PATTERN })
const TimeUnit = (description: string) => StringEnum(TIME_UNITS, { description })

export const RuleMetadataSchema = Type.Object({
  name: DnsLabel('Name of the rule, unique per kind in its namespace (a DNS label); rules name strategies and fallbacks by it.'),
  namespace: Type.Optional(DnsLabel('Namespace the rule lives in; it applies to functions of this namespace only.', { default: RULE_DEFAULT_NAMESPACE })),
  labels: Type.Optional(LabelsSchema('Labels; for a rule without spec.selector, `app` names the functions it applies to (as the OpenSergo control plane reads it).'))
}, { ...closed, description: 'Identity of the rule.' })

const Selector = Type.Record(Type.String(), Type.String({ description: 'Label value.', maxLength: 63 }), {
  description: 'The labels of the functions the rule applies to, usually `app: NAME`; absent: metadata.labels.app.',
  propertyNames: { maxLength: 317 }
})

export const RateLimitStrategySpecSchema = Type.Object({
  metricType: Type.Optional(StringEnum(['RequestAmount'], { description: 'What is counted: requests.' })),
  limitMode: Type.Optional(StringEnum(['Local', 'Global', 'GlobalToLocal'], { description: 'Local, Global or GlobalToLocal: the gateway is where every request of a function passes, so each limits the function\'s total.' })),
  threshold: Type.Number({ description: 'The most requests per stat window (an int in the CRD, a double in the spec).', minimum: 0 }),
  statDuration: Type.Optional(Type.Union([
    Duration('The stat window (the en spec).'),
    Type.Integer({ description: 'The proto\'s JSON form: a number in statDurationTimeUnit.', minimum: 1 })
  ], { description: 'The window the threshold counts over.' })),
  statDurationTimeUnit: Type.Optional(TimeUnit('The unit of an integer statDuration (the proto\'s JSON form).')),
  statDurationSeconds: Type.Optional(Type.Integer({ description: 'The stat window in seconds (the zh spec and the CRD).', minimum: 1 })),
  stat_duration: Type.Optional(Type.Integer({ description: 'The stat window (the proto\'s field), in stat_duration_time_unit.', minimum: 1 })),
  stat_duration_time_unit: Type.Optional(TimeUnit('The unit of stat_duration.'))
}, { ...closed, description: 'At most `threshold` requests per stat window, exact to the request (a sliding window).' })

export const ThrottlingStrategySpecSchema = Type.Object({
  minIntervalOfRequests: Duration('The shortest gap between two requests (0 allowed).'),
  queueTimeout: Type.Optional(Duration('The longest a request waits in the queue; default 500ms.'))
}, { ...closed, description: 'Requests paced at a uniform rate, queued for at most queueTimeout.' })

export const ConcurrencyLimitStrategySpecSchema = Type.Object({
  maxConcurrency: Type.Integer({ description: 'Requests in flight across all the function\'s instances.', minimum: 0 }),
  limitMode: Type.Optional(StringEnum(['Local', 'Global'], { description: 'Local or Global: both limit the function\'s total at the gateway.' }))
}, { ...closed, description: 'A limit of requests in flight.' })

export const CircuitBreakerStrategySpecSchema = Type.Object({
  strategy: StringEnum(['SlowRequestRatio', 'ErrorRequestRatio'], { description: 'What trips it: the ratio of slow requests or of errors.' }),
  triggerRatio: Type.Union([
    Type.String({ description: 'A percentage such as "60%" (the CRD).', pattern: PERCENT_PATTERN }),
    Type.Number({ description: 'A ratio from 0 to 1 (the proto).', minimum: 0 })
  ], { description: 'The ratio at which it trips (reached counts).' }),
  statDuration: Duration('The window requests are counted over.'),
  recoveryTimeout: Duration('How long it stays open before probing.'),
  minRequestAmount: Type.Optional(Type.Integer({ description: 'Requests the window must hold before it may trip; default 5.', minimum: 1 })),
  slowConditions: Type.Optional(Type.Object({
    maxAllowedRt: Duration('A request slower than this is slow.')
  }, { ...closed, description: 'Required with SlowRequestRatio.' })),
  errorConditions: Type.Optional(Type.Object({
    errorType: Type.Optional(Type.String({ description: 'The spec\'s error type; the gateway counts 5xx from the handler, timeouts and crashed instances, never 4xx or its own refusals.', maxLength: 256 }))
  }, { ...closed, description: 'Which responses are errors.' }))
}, { ...closed, description: 'A circuit breaker per function (per target route).' })

export const HttpRequestFallbackActionSpecSchema = Type.Object({
  behavior: StringEnum(['ReturnProvidedResponse'], { description: 'ReturnProvidedResponse: answer with the response below.' }),
  behaviorDesc: Type.Object({
    responseStatusCode: Type.Optional(Type.Integer({ description: 'Status; default 429.', minimum: 200, maximum: 599 })),
    responseContentBody: Type.Optional(Type.String({ description: 'Body.', maxLength: GOVERNANCE_BOUNDS.bodyBytes })),
    responseAdditionalHeaders: Type.Optional(Type.Array(Type.Object({
      key: Type.String({ description: 'Header name.', pattern: HEADER_NAME_PATTERN, maxLength: 256 }),
      value: Type.String({ description: 'Header value, without line breaks.', maxLength: GOVERNANCE_BOUNDS.headerValueLength })
    }, { ...closed, description: 'One header.' }), { description: 'Headers added to the response.', maxItems: GOVERNANCE_BOUNDS.headers }))
  }, { ...closed, description: 'The response.' })
}, { ...closed, description: 'What a refused request gets instead of the gateway\'s own answer.' })

const StrategyRef = Type.Object({
  name: DnsLabel('Name of a strategy in the rule\'s namespace.'),
  kind: Type.Optional(StringEnum(STRATEGY_KINDS, { description: 'Its kind (the CRD requires it); absent: whichever strategy kind has the name.' }))
}, { ...closed, description: 'A strategy by name.' })

const FallbackRef = Type.Object({
  name: DnsLabel('Name of an HttpRequestFallbackAction in the rule\'s namespace.'),
  kind: Type.Optional(StringEnum([FALLBACK_KIND], { description: 'Its kind.' }))
}, { ...closed, description: 'A fallback action by name and kind.' })

export const FaultToleranceRuleSpecSchema = Type.Object({
  selector: Type.Optional(Selector),
  targets: Type.Array(Type.Object({
    targetResourceName: Type.String({ description: 'The route: "/foo", "GET:/foo", or "/api/*" for every path under /api/.', minLength: 1, maxLength: 1024 })
  }, { ...closed, description: 'One target; each is counted apart.' }), { description: 'The routes the rule applies to.', minItems: 1, maxItems: 100 }),
  strategies: Type.Array(StrategyRef, { description: 'The strategies applied to each target.', minItems: 1, maxItems: 10 }),
  fallbackAction: Type.Optional(Type.Union([DnsLabel('Name of an HttpRequestFallbackAction in the rule\'s namespace.'), FallbackRef], { description: 'What a request refused by one of the strategies gets.' })),
  action: Type.Optional(FallbackRef)
}, { ...closed, description: 'Strategies applied to targets of the functions the selector picks.' })

const HttpMatchSchema = Type.Object({
  headers: Type.Optional(NamedMatchesSchema('Headers to match, by name (any case).', HEADER_NAME_PATTERN)),
  cookies: Type.Optional(NamedMatchesSchema('Cookies to match, by name.')),
  queryParams: Type.Optional(NamedMatchesSchema('Query parameters to match, by name.')),
  uri: Type.Optional(StringMatchSchema)
}, { ...closed, description: 'Conditions that must all hold.' })

export const TrafficLabelRuleSpecSchema = Type.Object({
  selector: Type.Optional(Selector),
  lane: Type.Union([
    LaneNameSchema('The lane\'s name.'),
    Type.Object({ name: LaneNameSchema('The lane\'s name.') }, { ...closed, description: 'The lane, as the TrafficLane draft writes it.' })
  ], { description: 'The lane matching requests go to: the spec.traffic entry of the function that names it.' }),
  match: Type.Union([HttpMatchSchema, Type.Array(HttpMatchSchema, { description: 'Several matches: any of them labels the request.', minItems: 1, maxItems: 20 })], { description: 'Which requests are in the lane.' })
}, { ...closed, description: 'Labels traffic into a lane by header, cookie, query parameter or path.' })

const SPEC_SCHEMAS: { [K in RuleKind]: TSchema } = {
  RateLimitStrategy: RateLimitStrategySpecSchema,
  ThrottlingStrategy: ThrottlingStrategySpecSchema,
  ConcurrencyLimitStrategy: ConcurrencyLimitStrategySpecSchema,
  CircuitBreakerStrategy: CircuitBreakerStrategySpecSchema,
  HttpRequestFallbackAction: HttpRequestFallbackActionSpecSchema,
  FaultToleranceRule: FaultToleranceRuleSpecSchema,
  TrafficLabelRule: TrafficLabelRuleSpecSchema
}

/** The whole document of one kind. */
export function ruleManifestSchema (kind: RuleKind): TSchema {
  const apiVersion = apiVersionOf(kind)
  return Type.Object({
    apiVersion: StringEnum([apiVersion], { description: `API version: ${apiVersion}.` }),
    kind: StringEnum([kind], { description: `Kind: ${kind}.` }),
    metadata: RuleMetadataSchema,
    spec: SPEC_SCHEMAS[kind]
  }, { ...closed, description: `An OpenSergo ${kind} (apiVersion ${apiVersion}). Apply it with \`roost apply -f <file>\`, beside Functions.` })
}

// Compile-time: what each schema accepts is what the governance part reads.
type Fits<S extends TSchema, K extends RuleKind> = (written: Static<S>) => RuleSpecs[K]
export const ruleSchemasFit: [
  Fits<typeof RateLimitStrategySpecSchema, 'RateLimitStrategy'>,
  Fits<typeof ThrottlingStrategySpecSchema, 'ThrottlingStrategy'>,
  Fits<typeof ConcurrencyLimitStrategySpecSchema, 'ConcurrencyLimitStrategy'>,
  Fits<typeof CircuitBreakerStrategySpecSchema, 'CircuitBreakerStrategy'>,
  Fits<typeof HttpRequestFallbackActionSpecSchema, 'HttpRequestFallbackAction'>,
  Fits<typeof FaultToleranceRuleSpecSchema, 'FaultToleranceRule'>,
  Fits<typeof TrafficLabelRuleSpecSchema, 'TrafficLabelRule'>
] = [(w) => w, (w) => w, (w) => w, (w) => w, (w) => w, (w) => w, (w) => w]
