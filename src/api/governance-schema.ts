// `spec.governance` of a Function: its own rate limits, throttles, concurrency
// limits and breakers per route, the fallbacks per cause, retries, and lanes.
// The shapes are checked here; the meaning (durations, ratios, regexes, what
// goes with what) by the governance part's compileInline, which the compiler
// runs too, so apply and the gateway read a rule alike. Durations are in the
// Function's dialect: "500ms", "1s", "5m" (minutes), "1h".

import { Type, type Static } from '@sinclair/typebox'
import { GOVERNANCE_BOUNDS, GOVERNANCE_DEFAULTS, LIMIT_KEY_PATTERN, type GovernanceSpec } from '../governance/index.js'
import { DURATION_PATTERN } from './quantities.js'
import { closed, DnsLabel, HEADER_NAME_PATTERN, LANE_NAME_PATTERN, PERCENT_PATTERN, ROUTE_PATTERN, StringEnum } from './schema-parts.js'

const d = GOVERNANCE_DEFAULTS

const Duration = (description: string, defaultValue?: string) =>
  Type.String({ description, pattern: DURATION_PATTERN, ...(defaultValue === undefined ? {} : { default: defaultValue, examples: [defaultValue] }) })

const Ratio = (description: string) => Type.Union([
  Type.Number({ description: 'A ratio from 0 to 1.', minimum: 0, maximum: 1 }),
  Type.String({ description: 'A percentage such as "50%".', pattern: PERCENT_PATTERN })
], { description })

const LimitKey = Type.String({
  description: 'What is counted apart: "function" (one counter), "route", "caller" (the identity spec.http.auth finds), "ip", "header:NAME" or "query:NAME" (hot values, at most maxKeys tracked).',
  pattern: LIMIT_KEY_PATTERN,
  default: d.rateLimit.key
})

const MaxKeys = Type.Integer({ description: 'Distinct keys tracked at once; over it the least recently seen share one counter (never a fresh full quota).', minimum: 1, maximum: GOVERNANCE_BOUNDS.maxKeys, default: d.rateLimit.maxKeys })

export const LaneNameSchema = (description: string) => Type.String({ description, pattern: LANE_NAME_PATTERN, maxLength: 63 })

export const StringMatchSchema = Type.Object({
  exact: Type.Optional(Type.Union([Type.String({ description: 'The whole value.' }), Type.Number({ description: 'A number, matched as its text.' })], { description: 'Matches this value exactly.' })),
  prefix: Type.Optional(Type.String({ description: 'Matches values that start with this.' })),
  regex: Type.Optional(Type.String({ description: `A JavaScript regular expression (at most ${GOVERNANCE_BOUNDS.regexLength} characters, no nested quantifiers).`, maxLength: GOVERNANCE_BOUNDS.regexLength }))
}, { ...closed, description: 'One of exact, prefix or regex.' })

export const NamedMatchesSchema = (description: string, names?: string) => Type.Record(Type.String(), StringMatchSchema, {
  description,
  ...(names === undefined ? {} : { propertyNames: { pattern: names } }),
  maxProperties: 20
})

export const FallbackSchema = Type.Object({
  status: Type.Optional(Type.Integer({ description: 'Status of the provided response; default 429 when limited, 503 when the breaker is open or the function overloaded, 504 when timed out.', minimum: 200, maximum: 599 })),
  body: Type.Optional(Type.String({ description: 'Body of the provided response.', maxLength: GOVERNANCE_BOUNDS.bodyBytes })),
  headers: Type.Optional(Type.Record(Type.String(), Type.String({ description: 'Header value, without line breaks.' }), {
    description: 'Headers of the provided response (not the ones that frame it, such as Content-Length).',
    propertyNames: { pattern: HEADER_NAME_PATTERN },
    maxProperties: GOVERNANCE_BOUNDS.headers
  })),
  function: Type.Optional(DnsLabel('Instead of a response, call this function of the same namespace.')),
  version: Type.Optional(Type.Integer({ description: 'With function: the version of it to call (default: as its traffic says).', minimum: 1 }))
}, { ...closed, description: 'What to answer instead: a response (status, body, headers) or another function.' })

export const FallbacksSchema = Type.Object({
  rateLimited: Type.Optional(FallbackSchema),
  concurrencyLimited: Type.Optional(FallbackSchema),
  breakerOpen: Type.Optional(FallbackSchema),
  overloaded: Type.Optional(FallbackSchema),
  timedOut: Type.Optional(FallbackSchema)
}, { ...closed, description: 'A fallback per cause, so a caller can tell them apart: rate limited, over the concurrency limit, breaker open, overloaded, timed out.' })

export const RateLimitSchema = Type.Object({
  algorithm: Type.Optional(StringEnum(['sliding-window', 'fixed-window', 'token-bucket'], {
    description: 'sliding-window (exact: no window anywhere admits more than the limit), fixed-window, or token-bucket (the limit per window as a rate, plus burst).',
    default: d.rateLimit.algorithm
  })),
  limit: Type.Number({ description: 'Requests admitted per window (token-bucket: tokens added per window).', minimum: 0 }),
  window: Type.Optional(Duration('The window the limit counts over.', d.rateLimit.window)),
  burst: Type.Optional(Type.Integer({ description: 'token-bucket only: requests that may pass at once above the rate.', minimum: 0, default: d.rateLimit.burst })),
  key: Type.Optional(LimitKey),
  maxKeys: Type.Optional(MaxKeys)
}, { ...closed, description: 'A rate limit: beyond it requests get 429 (or the rateLimited fallback) with Retry-After and RateLimit headers.' })

export const ThrottleSchema = Type.Object({
  interval: Duration('The shortest gap between two requests: they are queued and paced this far apart.'),
  maxQueueing: Type.Optional(Duration('The longest a request may wait in the queue; one that would wait longer is refused at once.', `${d.throttle.maxQueueingMs}ms`)),
  key: Type.Optional(LimitKey),
  maxKeys: Type.Optional(MaxKeys)
}, { ...closed, description: 'Shaping (a leaky bucket, OpenSergo\'s ThrottlingStrategy): requests are paced, not refused, while the queue is short.' })

export const ConcurrencySchema = Type.Object({
  limit: Type.Integer({ description: 'Requests in flight across all the function\'s instances; more get 429 (or the concurrencyLimited fallback).', minimum: 1, maximum: 100_000 })
}, { ...closed, description: 'A concurrency limit across every instance, beside the per-instance spec.concurrency.' })

export const BreakerSchema = Type.Object({
  trigger: Type.Optional(StringEnum(['error-ratio', 'slow-ratio', 'error-count'], { description: 'What trips it: the ratio of errors (5xx, timeouts, crashes; never 4xx or the gateway\'s own refusals), the ratio of slow calls, or a count of errors.', default: d.breaker.trigger })),
  threshold: Type.Union([Type.Number({ description: 'A ratio from 0 to 1, or for error-count a count.', minimum: 0 }), Type.String({ description: 'A percentage such as "50%".', pattern: PERCENT_PATTERN })], { description: 'Trips when the ratio or count reaches this.' }),
  slow: Type.Optional(Duration('slow-ratio: a call that takes longer than this is slow.')),
  window: Type.Optional(Duration('The sliding window the calls are counted over.', `${d.breaker.windowMs / 1000}s`)),
  buckets: Type.Optional(Type.Integer({ description: 'Buckets the window slides by.', minimum: 1, maximum: 100, default: d.breaker.buckets })),
  minRequests: Type.Optional(Type.Integer({ description: 'Calls the window must hold before it may trip.', minimum: 1, default: d.breaker.minRequests })),
  recovery: Type.Optional(Duration('Open this long after a first trip, then half-open.', `${d.breaker.recoveryMs / 1000}s`)),
  maxRecovery: Type.Optional(Duration('Each trip in a row doubles the open time (with jitter) up to this.', `${d.breaker.maxRecoveryMs / 1000}s`)),
  probes: Type.Optional(Type.Integer({ description: 'Calls admitted half-open, at most this many at once: their success closes the breaker, a failure opens it again.', minimum: 1, maximum: 100, default: d.breaker.probes })),
  ramp: Type.Optional(Type.Object({
    percent: Type.Optional(Type.Integer({ description: 'After closing, the share admitted starts here and grows by it each interval; 100 turns the ramp off.', minimum: 1, maximum: 100, default: d.breaker.rampPercent })),
    interval: Type.Optional(Duration('How often the admitted share grows.', `${d.breaker.rampIntervalMs / 1000}s`))
  }, { ...closed, description: 'How traffic comes back after the breaker closes.' }))
}, { ...closed, description: 'A circuit breaker: open, requests get the breakerOpen fallback at once and reach no instance.' })

export const InlineRuleSchema = Type.Object({
  name: Type.Optional(DnsLabel('A name for the rule: its strategies\' name in RateLimit-Policy, metrics and describe.')),
  routes: Type.Optional(Type.Array(Type.String({ description: 'A path such as "/foo", a method and a path such as "GET:/foo", or a prefix such as "/api/*".', pattern: ROUTE_PATTERN, maxLength: 1024 }), {
    description: 'The routes the rule applies to; absent: every route of the function.',
    maxItems: 20
  })),
  rateLimit: Type.Optional(RateLimitSchema),
  throttle: Type.Optional(ThrottleSchema),
  concurrency: Type.Optional(ConcurrencySchema),
  breaker: Type.Optional(BreakerSchema),
  fallbacks: Type.Optional(FallbacksSchema)
}, { ...closed, description: 'Strategies applied to some routes, and what to answer when one refuses.' })

export const RetriesSchema = Type.Object({
  attempts: Type.Optional(Type.Integer({ description: 'Attempts in all, the first included; 1 turns retries off. Only idempotent methods or requests with Idempotency-Key are retried once they reached an instance.', minimum: 1, maximum: GOVERNANCE_BOUNDS.attempts, default: d.retry.attempts })),
  backoff: Type.Optional(Type.Object({
    base: Type.Optional(Duration('Full-jitter backoff: the wait before retry n is random in [0, min(cap, base × 2^n)).', `${d.retry.baseMs}ms`)),
    cap: Type.Optional(Duration('The longest wait between attempts.', `${d.retry.capMs / 1000}s`))
  }, { ...closed, description: 'The wait between attempts.' })),
  budget: Type.Optional(Type.Object({
    ratio: Type.Optional(Ratio(`Retries may be at most this share of the function's recent requests (default ${d.retry.budgetRatio * 100}%), so they never multiply an outage.`)),
    minPerSecond: Type.Optional(Type.Number({ description: '...but this many per second are always allowed.', minimum: 0, default: d.retry.budgetMinPerSecond }))
  }, { ...closed, description: 'The retry budget.' }))
}, { ...closed, description: 'Retries that cannot storm, inside the request\'s one deadline.' })

export const LaneSchema = Type.Object({
  lane: LaneNameSchema('The lane: requests that match go to the spec.traffic entry with this lane (or the default split when none has it).'),
  headers: Type.Optional(NamedMatchesSchema('Headers to match, by name (any case).', HEADER_NAME_PATTERN)),
  cookies: Type.Optional(NamedMatchesSchema('Cookies to match, by name.')),
  query: Type.Optional(NamedMatchesSchema('Query parameters to match, by name.')),
  path: Type.Optional(StringMatchSchema)
}, { ...closed, description: 'Requests matching every condition go to the lane.' })

export const GovernanceSchema = Type.Object({
  rules: Type.Optional(Type.Array(InlineRuleSchema, { description: 'Rate limits, throttles, concurrency limits and breakers, per route.', maxItems: 20 })),
  fallbacks: Type.Optional(FallbacksSchema),
  retries: Type.Optional(RetriesSchema),
  lanes: Type.Optional(Type.Array(LaneSchema, { description: 'Header, cookie, query or path routing into lanes; the first that matches wins.', maxItems: 20 }))
}, { ...closed, description: 'Traffic governance at the gateway; OpenSergo rules (FaultToleranceRule, TrafficLabelRule) selecting the function\'s app label add to it.' })

// Compile-time: what the schema accepts is what the governance part reads.
export const governanceSchemaFits: (written: Static<typeof GovernanceSchema>) => GovernanceSpec = (written) => written

/** The patterns above in words, for validation's messages. */
export const GOVERNANCE_EXPLAINERS = {
  strings: {
    [ROUTE_PATTERN]: (got: string) => `expected a path such as "/foo", a method and a path such as "GET:/foo", or a prefix such as "/api/*", got ${got}`,
    [LIMIT_KEY_PATTERN]: (got: string) => `expected function, route, caller, ip, header:NAME or query:NAME, got ${got}`,
    [PERCENT_PATTERN]: (got: string) => `expected a percentage such as "50%", got ${got}`,
    [LANE_NAME_PATTERN]: (got: string) => `${got} is not a valid lane name: use letters, digits, "-", "_" and ".", starting and ending with a letter or digit (at most 63 characters)`
  },
  keys: {
    [HEADER_NAME_PATTERN]: (got: string) => `${got} is not a header name: use letters, digits and !#$%&'*+.^_\`|~-`
  }
}
