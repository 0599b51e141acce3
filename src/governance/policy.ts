// The compiled form of every governance rule that applies to one function:
// what the control plane pushes to the gateway in the routing table, and the
// only shape the gateway's filters read. Both sources of rules, a Function's
// `spec.governance` and the OpenSergo kinds, normalise into it, so the data
// plane knows one model whatever the user wrote. Durations are milliseconds.

/** Why the gateway answered a request itself instead of the function. */
export type RejectCause = 'rate-limited' | 'concurrency-limited' | 'breaker-open' | 'overloaded' | 'timed-out'

/** What a limit counts separately: one counter per distinct value. */
export type LimitKey =
  | { by: 'function' }
  | { by: 'route' }
  | { by: 'caller' }
  | { by: 'ip' }
  | { by: 'header', name: string }
  | { by: 'query', name: string }

/** A route a rule applies to: `/foo` matches that path on every method, `GET:/foo` only GETs. */
export interface RouteMatch {
  /** Upper case; absent: every method. */
  method?: string
  /** An exact path, or a prefix when it ends in `/*`. */
  path: string
}

export interface RateLimitPolicy {
  kind: 'rate-limit'
  /** The strategy's name: the `RateLimit-Policy` item and the metric's `rule` label. */
  name: string
  algorithm: 'fixed-window' | 'sliding-window' | 'token-bucket'
  /** Requests admitted per window (token bucket: tokens added per window). */
  limit: number
  windowMs: number
  /** Token bucket only: extra requests that may pass at once above the rate (the bucket holds burst + 1); any window admits at most limit + burst. */
  burst: number
  key: LimitKey
  /** Distinct keys tracked at once for keyed limits; over it the least recently seen is folded into one shared overflow state that new keys start from, so an evicted key never comes back to a full quota. */
  maxKeys: number
}

/** OpenSergo ThrottlingStrategy: requests are paced `intervalMs` apart, queued at most `maxQueueingMs`. */
export interface ThrottlePolicy {
  kind: 'throttle'
  name: string
  intervalMs: number
  maxQueueingMs: number
  key: LimitKey
  maxKeys: number
}

/** Requests in flight across all the function's instances. */
export interface ConcurrencyPolicy {
  kind: 'concurrency'
  name: string
  limit: number
}

export interface BreakerPolicy {
  kind: 'breaker'
  name: string
  /** What trips it: the ratio of errors, of slow calls, or a count of errors, over the window. */
  trigger: 'error-ratio' | 'slow-ratio' | 'error-count'
  /** A ratio in [0, 1] for the ratios; a count for `error-count`. Trips when reached (>=). */
  threshold: number
  /** slow-ratio: a call that takes longer than this is slow. */
  slowMs: number
  windowMs: number
  /** Buckets the window slides by. */
  buckets: number
  /** Calls the window must hold before it may trip. */
  minRequests: number
  /** Open this long after the first trip; half-open after it. */
  recoveryMs: number
  /** Each consecutive trip doubles the open time (less up to 20% jitter) up to this; reset once fully closed again. */
  maxRecoveryMs: number
  /** Probe calls admitted in half-open, at most this many at once. */
  probes: number
  /** After closing, the admitted share starts at this percent and grows by it every `rampIntervalMs`; 100 turns the ramp off. */
  rampPercent: number
  rampIntervalMs: number
}

export type Strategy = RateLimitPolicy | ThrottlePolicy | ConcurrencyPolicy | BreakerPolicy

export type Fallback =
  | { kind: 'response', status: number, body: string, headers: Array<[string, string]> }
  /** Calls another function of the same namespace (or a version of this one) instead. */
  | { kind: 'function', name: string, version?: number }

/** One rule: strategies applied to some routes of a function, with what to answer when one refuses. */
export interface GovernanceRule {
  /** `FaultToleranceRule/<name>` or `spec.governance.rules[<i>]`: where it came from, for describe and metrics. */
  id: string
  /** Empty: every route of the function. */
  routes: RouteMatch[]
  strategies: Strategy[]
  /** Per cause; a cause without one gets the gateway's own problem answer. */
  fallbacks: Partial<Record<RejectCause, Fallback>>
}

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  attempts: number
  /** Full-jitter backoff: a random wait in [0, min(capMs, baseMs × 2^attempt)), attempt 0 before the first retry. */
  baseMs: number
  capMs: number
  /** Retries may be at most this share of the function's recent first attempts (the last ~10 s)... */
  budgetRatio: number
  /** ...but this many per second are always allowed. */
  budgetMinPerSecond: number
}

export type StringMatch = { exact: string } | { prefix: string } | { regex: string }

/** Requests matching every condition of a lane go to its lane (a traffic entry with that `lane`). */
export interface LaneMatch {
  lane: string
  /** From TrafficLabelRule/<name> or spec.governance.lanes[<i>]. */
  id: string
  headers: Array<{ name: string, match: StringMatch }>
  cookies: Array<{ name: string, match: StringMatch }>
  query: Array<{ name: string, match: StringMatch }>
  path?: StringMatch
}

/**
 * Who may call a function, compiled from `spec.http.auth` with every reference
 * resolved (Secrets read, key files inlined, API keys listed). The gateway's
 * `CallerAuthenticator` (authenticate.ts) is built from it.
 */
export type CallerAuth =
  | { mode: 'none' }
  /** Keys made with `roost key create`; only their SHA-256 hashes reach the gateway. */
  | { mode: 'key', keys: ApiKeyRecord[] }
  | HmacAuth
  | { mode: 'jwt', issuer?: string, audience?: string, keys: JwtKey[], clockSkewMs: number }
  /** Only functions of this namespace, calling through the gateway with their platform call token. */
  | { mode: 'private', namespace: string }

/** Standard Webhooks signatures (`webhook-id`, `webhook-timestamp`, `webhook-signature`). */
export interface HmacAuth {
  mode: 'hmac'
  /** How far `webhook-timestamp` may be from now, either way. */
  toleranceMs: number
  /** `whsec_…` secrets, all accepted at once so that a new one can be added before the old one goes. */
  secrets: string[]
  /** The caller's identity: the Secret the signing secrets come from (unchanged across a rotation). */
  signer: string
  /** Signed attempts remembered for replay detection; when full, new messages are refused (503) until some expire. */
  replayCacheSize: number
  /** The body is signed, so the gateway reads it whole before authenticating; longer bodies are refused (413). */
  maxBodyBytes: number
}

export interface ApiKeyRecord {
  /** The public part of the key (its prefix), the caller's identity. */
  id: string
  /** Hex SHA-256 of the whole key. */
  sha256: string
  /** Epoch ms; absent: never expires. */
  expiresAt?: number
}

export type JwtAlg = 'HS256' | 'RS256' | 'ES256' | 'EdDSA'

export interface JwtKey {
  /** `kid` header to match; absent: tried for every token. */
  kid?: string
  alg: JwtAlg
  /** HS256: the secret (UTF-8); the others: a public key as PEM (or an X.509 certificate) or as JWK JSON. */
  key: string
}

/** Everything governance the gateway applies to one function. */
export interface FunctionPolicy {
  rules: GovernanceRule[]
  retry: RetryPolicy
  lanes: LaneMatch[]
  auth: CallerAuth
}

/** A rule that could not be applied as written, shown on the rule and on the functions it selects. */
export interface RuleProblem {
  rule: string
  message: string
}
