// The `Function` resource (apiVersion roost.dev/v1): its schema, as users write it, and
// the normalized type the rest of the platform works with. Every object is closed
// (additionalProperties: false) so that a typo is reported instead of silently ignored,
// and every property has a description because editors show it as help.

import { Type, type Static } from '@sinclair/typebox'
import type { GovernanceSpec } from '../governance/index.js'
import { GovernanceSchema } from './governance-schema.js'
import { DURATION_PATTERN, MEMORY_PATTERN } from './quantities.js'
import { closed, DNS_LABEL_PATTERN, DnsLabel, LABEL_KEY_PATTERN, LabelsSchema, LANE_NAME_PATTERN, StringEnum } from './schema-parts.js'

export const API_VERSION = 'roost.dev/v1'
export const FUNCTION_KIND = 'Function'

// validate.ts recognises a failing string by its pattern and explains that pattern in
// words; these constants are the shared key.
export const ENV_NAME_PATTERN = '^[A-Za-z_][A-Za-z0-9_]*$'
export const HTTP_PATH_PATTERN = '^(/[A-Za-z0-9._~-]+)+$'
// A lower-case DNS name such as api.example.com (matched against Host without its port).
export const HTTP_HOST_PATTERN = '^([a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\\.)*[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$'
export const TIME_OF_DAY_PATTERN = '^([01][0-9]|2[0-3]):[0-5][0-9]$'
export { DNS_LABEL_PATTERN, DURATION_PATTERN, LABEL_KEY_PATTERN, MEMORY_PATTERN }

export const FUNCTION_DEFAULTS = {
  namespace: 'default',
  loader: 'ts',
  timeout: '30s',
  memory: '128Mi',
  concurrency: 100,
  scale: { min: 0, max: 10, metric: 'concurrency', target: 10, utilization: 0.7, window: '60s', scaleDownDelay: '30s' },
  auth: 'none'
} as const

// Ranges a pattern cannot express; validate.ts checks them after the schema.
export const FUNCTION_BOUNDS = {
  timeout: { min: '100ms', max: '15m' },
  memory: { min: '16Mi', max: '8Gi' },
  window: { min: '6s' },
  scaleDownDelay: { min: '1s' }
} as const

// Paths the gateway serves itself; a function may not claim them.
export const RESERVED_HTTP_PATHS = ['/fn', '/healthz', '/metrics', '/async', '/_roost'] as const
/** The gateway routes everything under these itself: /fn/<name>, async calls, and the platform's endpoints for functions. */
export const RESERVED_HTTP_PREFIXES = ['/fn/', '/async/', '/_roost/'] as const

const Duration = (description: string, defaultValue: string) =>
  Type.String({ description, pattern: DURATION_PATTERN, default: defaultValue, examples: [defaultValue] })

export const MetadataSchema = Type.Object({
  name: DnsLabel('Name of the function, unique in its namespace: lower-case letters, digits and "-" (a DNS label, at most 63 characters). The function answers at /fn/<name>.'),
  namespace: Type.Optional(DnsLabel(
    'Namespace the function lives in (a DNS label). It answers at /fn/<name>.<namespace> as well.',
    { default: FUNCTION_DEFAULTS.namespace }
  )),
  labels: Type.Optional(LabelsSchema('Labels to select the function by, as in Kubernetes. Governance rules match the `app` label.'))
}, { ...closed, description: 'Identity of the function.' })

export const SourceLoaderSchema = StringEnum(['ts', 'js'], {
  description: 'Language of the inline code: "ts" (TypeScript) or "js" (JavaScript).',
  default: FUNCTION_DEFAULTS.loader
})

export const InlineSourceSchema = Type.Object({
  inline: Type.String({ description: 'The code of the function module itself.', minLength: 1 }),
  loader: Type.Optional(SourceLoaderSchema)
}, { ...closed, description: 'Code written in the manifest.' })

export const FunctionSourceSchema = Type.Union([
  Type.String({ description: 'A .ts/.js file or a folder (with package.json), relative to the manifest file.', minLength: 1 }),
  InlineSourceSchema
], { description: 'Where the code is: a path to a file or folder relative to the manifest, or `inline:` code.' })

export const ScaleMetricSchema = StringEnum(['concurrency', 'rps', 'queue'], {
  description: 'What the autoscaler measures: "concurrency" (requests in flight), "rps" (requests per second) or "queue" (messages waiting or in flight on the function\'s queue triggers; instances = ⌈backlog / target⌉).',
  default: FUNCTION_DEFAULTS.scale.metric
})

export const ScaleMetricTargetSchema = Type.Object({
  metric: ScaleMetricSchema,
  target: Type.Number({ description: 'Value of the metric one instance should carry.', exclusiveMinimum: 0 })
}, { ...closed, description: 'One metric the autoscaler follows, with its per-instance target.' })

export const ScheduleEntrySchema = Type.Object({
  cron: Type.String({ description: 'When the raised floor starts: a five-field cron expression (minute hour day-of-month month day-of-week), e.g. "0 9 * * 1-5".', minLength: 1, maxLength: 128, examples: ['0 9 * * 1-5'] }),
  min: Type.Integer({ description: 'Fewest instances from the cron time until `until`; at most `scale.max`.', minimum: 0 }),
  until: Type.String({ description: 'Time of day (HH:MM, 24-hour, in `timezone`) at which the raised floor ends.', pattern: TIME_OF_DAY_PATTERN, examples: ['18:00'] }),
  timezone: Type.Optional(Type.String({ description: 'IANA time zone of `cron` and `until`, e.g. "Europe/Paris".', minLength: 1, maxLength: 64, default: 'UTC' }))
}, { ...closed, description: 'A floor raised ahead of a known peak.' })

export const ScaleSchema = Type.Object({
  min: Type.Optional(Type.Integer({ description: 'Fewest instances. 0 lets the function scale to zero when idle.', minimum: 0, default: FUNCTION_DEFAULTS.scale.min })),
  max: Type.Optional(Type.Integer({ description: 'Most instances; at least `min`.', minimum: 1, default: FUNCTION_DEFAULTS.scale.max })),
  metric: Type.Optional(ScaleMetricSchema),
  target: Type.Optional(Type.Number({ description: 'Value of the metric one instance should carry.', exclusiveMinimum: 0, default: FUNCTION_DEFAULTS.scale.target })),
  utilization: Type.Optional(Type.Number({ description: 'Fraction of `target` at which to scale up (0.7 = at 70%).', exclusiveMinimum: 0, maximum: 1, default: FUNCTION_DEFAULTS.scale.utilization })),
  window: Type.Optional(Duration(`Stable window the metric is averaged over, at least ${FUNCTION_BOUNDS.window.min}; the panic window is a tenth of it.`, FUNCTION_DEFAULTS.scale.window)),
  scaleDownDelay: Type.Optional(Duration(`How long demand must stay lower before scaling down, at least ${FUNCTION_BOUNDS.scaleDownDelay.min}; idle this long with min 0 means zero instances.`, FUNCTION_DEFAULTS.scale.scaleDownDelay)),
  metrics: Type.Optional(Type.Array(ScaleMetricTargetSchema, { description: 'Several metrics at once, instead of `metric` and `target`: the largest instance count wins.', minItems: 1, maxItems: 2 })),
  schedule: Type.Optional(Type.Array(ScheduleEntrySchema, { description: 'Floors raised at known times (scheduled scaling).', maxItems: 20 }))
}, { ...closed, description: 'How the number of instances follows traffic.' })

export const SecretKeyRefSchema = Type.Object({
  name: DnsLabel('Name of a Secret in the function\'s namespace.'),
  key: Type.String({ description: 'Key of the value in that Secret.', pattern: ENV_NAME_PATTERN, maxLength: 253 })
}, { ...closed, description: 'One value of a Secret.' })

export const AUTH_MODES = ['none', 'key', 'hmac', 'jwt', 'private'] as const
export const JWT_ALGORITHMS = ['HS256', 'RS256', 'ES256', 'EdDSA'] as const
export const AUTH_DEFAULTS = { tolerance: '5m', clockSkew: '30s', replayCacheSize: 50_000 } as const
// Ranges a pattern cannot express; auth-rules.ts checks them after the schema.
export const AUTH_BOUNDS = {
  tolerance: { min: '1s', max: '1h' },
  clockSkew: { min: '0s', max: '10m' },
  replayCacheSize: { min: 100, max: 1_000_000 }
} as const

export const AuthModeSchema = StringEnum(AUTH_MODES, {
  description: 'Who may call the function over HTTP: "none" (anyone), "key" (an API key made with `roost key create`), "hmac" (requests signed as Standard Webhooks sign them), "jwt" (a bearer JWT of a trusted issuer) or "private" (only functions of its namespace, through the gateway).'
})

export const SigningSecretRefSchema = Type.Object({
  name: DnsLabel('Name of a Secret in the function\'s namespace holding `whsec_…` signing secrets.'),
  key: Type.Optional(Type.String({
    description: 'The key of the signing secret in that Secret. Absent: every key of the Secret is a signing secret, so a new one can be added beside the old (rotation) and the old removed later.',
    pattern: ENV_NAME_PATTERN,
    maxLength: 253
  }))
}, { ...closed, description: 'Where the signing secrets are: never in the manifest.' })

// A JWK is foreign to this schema: its fields depend on its kty, so it is left open.
export const JwkSchema = Type.Unsafe<Record<string, unknown>>({
  type: 'object',
  minProperties: 1,
  description: 'A public JSON Web Key (RFC 7517): kty RSA (RS256), EC on P-256 (ES256) or OKP Ed25519 (EdDSA), with its kid and alg when it has them.'
})

export const JwtKeySchema = Type.Object({
  kid: Type.Optional(Type.String({ description: 'The `kid` of the tokens this key verifies; absent: the key is tried for every token of its alg.', minLength: 1, maxLength: 256 })),
  alg: Type.Optional(StringEnum(JWT_ALGORITHMS, { description: 'The algorithm of the tokens: HS256, RS256, ES256 or EdDSA. Absent: the one the key implies.' })),
  pem: Type.Optional(Type.String({ description: 'A public key (or an X.509 certificate) in PEM: -----BEGIN PUBLIC KEY----- …', minLength: 1, maxLength: 16384 })),
  jwk: Type.Optional(JwkSchema),
  secretRef: Type.Optional(SecretKeyRefSchema)
}, { ...closed, description: 'One key that verifies tokens: a public key as `pem` or `jwk`, or an HS256 secret from a Secret as `secretRef`; exactly one of the three.' })

export const HttpAuthObjectSchema = Type.Object({
  mode: AuthModeSchema,
  secretRef: Type.Optional(SigningSecretRefSchema),
  tolerance: Type.Optional(Duration(`hmac: how far webhook-timestamp may be from the platform's clock, either way (${AUTH_BOUNDS.tolerance.min} to ${AUTH_BOUNDS.tolerance.max}); a signed request is accepted once within it.`, AUTH_DEFAULTS.tolerance)),
  replayCacheSize: Type.Optional(Type.Integer({
    description: 'hmac: how many signed requests within the tolerance are remembered to refuse replays; beyond it new ones get 503 until old ones expire.',
    minimum: AUTH_BOUNDS.replayCacheSize.min,
    maximum: AUTH_BOUNDS.replayCacheSize.max,
    default: AUTH_DEFAULTS.replayCacheSize
  })),
  issuer: Type.Optional(Type.String({ description: 'jwt: the `iss` every token must have. Absent: not checked.', minLength: 1, maxLength: 1024 })),
  audience: Type.Optional(Type.String({ description: 'jwt: the value `aud` must be or hold. Absent: not checked.', minLength: 1, maxLength: 1024 })),
  clockSkew: Type.Optional(Duration(`jwt: leeway for exp and nbf against the platform's clock (up to ${AUTH_BOUNDS.clockSkew.max}).`, AUTH_DEFAULTS.clockSkew)),
  keys: Type.Optional(Type.Array(JwtKeySchema, { description: 'jwt: the keys that verify tokens.', minItems: 1, maxItems: 20 })),
  jwks: Type.Optional(Type.Object({
    keys: Type.Array(JwkSchema, { description: 'The public keys.', minItems: 1, maxItems: 20 })
  }, { ...closed, description: 'jwt: a JSON Web Key Set written inline, as an issuer publishes it at its jwks_uri.' })),
  keysFile: Type.Optional(Type.String({
    description: 'jwt: a file next to the manifest with the keys: a JWKS or a JWK (JSON), or PEM public keys. `roost apply` reads it and sends the keys inline.',
    minLength: 1,
    maxLength: 4096
  }))
}, { ...closed, description: 'Caller authentication with its settings; `mode` says which fields apply.' })

export const HttpAuthSchema = Type.Union([AuthModeSchema, HttpAuthObjectSchema], {
  description: 'Who may call the function over HTTP: a mode ("none", "key" or "private"), or a mapping with `mode` and its settings ("hmac" needs secretRef, "jwt" needs keys, jwks or keysFile). A refused caller gets 401 with WWW-Authenticate, one without the right 403; neither reaches the function.',
  default: FUNCTION_DEFAULTS.auth
})

export const HttpSchema = Type.Object({
  path: Type.Optional(Type.String({
    description: 'An extra path the function answers at, besides /fn/<name> and /fn/<name>.<namespace>, such as /hello. Not /fn/…, /async/…, /_roost/…, /healthz or /metrics.',
    pattern: HTTP_PATH_PATTERN,
    maxLength: 256
  })),
  host: Type.Optional(Type.String({
    description: 'A host name (custom domain) such as api.example.com: requests whose Host header names it go to this function, every path of it, or with `path` only the paths under that path. Lower-case, without a port.',
    pattern: HTTP_HOST_PATTERN,
    maxLength: 253
  })),
  auth: Type.Optional(HttpAuthSchema)
}, { ...closed, description: 'How the function is reached over HTTP.' })

// ---------------------------------------------------------------------------
// triggers: events that are not HTTP requests (docs/event-delivery.md)

export const TRIGGER_DEFAULTS = {
  queue: { batch: 10, maxBatchWait: '1s', maxAttempts: 5, backoff: { initial: '1s', max: '5m' }, maxDepth: 10_000, retention: '24h' },
  cron: { timezone: 'UTC', overlap: 'allow', catchUp: 'skip', catchUpWindow: '1h', maxAttempts: 3 }
} as const

// Ranges a pattern cannot express; validate.ts checks them after the schema.
export const TRIGGER_BOUNDS = {
  maxBatchWait: { min: '0ms', max: '60s' },
  backoff: { min: '0ms', max: '24h' },
  retention: { min: '1m', max: '720h' },
  visibility: { min: '1s', max: '12h' },
  catchUpWindow: { min: '1m', max: '168h' }
} as const

/** Where a queue trigger's messages are held; the broker connectors are src/connectors. */
export const QUEUE_CONNECTORS = ['embedded', 'nats', 'redis', 'rabbitmq'] as const
export type QueueConnector = typeof QUEUE_CONNECTORS[number]
/** Fields only the embedded queue has: a broker keeps its own depth, retention and batching. */
export const EMBEDDED_ONLY_QUEUE_FIELDS = ['maxBatchWait', 'maxDepth', 'retention', 'deadLetter'] as const
/** Fields of a broker trigger, and the connectors each one belongs to. */
export const BROKER_QUEUE_FIELDS: Record<string, readonly QueueConnector[]> = {
  url: ['nats', 'redis', 'rabbitmq'],
  create: ['nats', 'redis', 'rabbitmq'],
  auth: ['nats', 'redis', 'rabbitmq'],
  stream: ['nats', 'redis'],
  subject: ['nats'],
  consumer: ['nats'],
  group: ['redis'],
  queue: ['rabbitmq'],
  prefetch: ['rabbitmq']
}

export const QueueTriggerSchema = Type.Object({
  name: DnsLabel('Name of the queue in the function\'s namespace (a DNS label). Declaring it here makes it exist: publishing to it (API, `roost publish`, ctx.publish) is refused until a function consumes it. One function consumes a queue.'),
  batch: Type.Optional(Type.Integer({ description: 'Most messages handed to one call of the `queue` handler.', minimum: 1, maximum: 1000, default: TRIGGER_DEFAULTS.queue.batch })),
  maxBatchWait: Type.Optional(Duration(`How long a batch smaller than \`batch\` may wait for more messages before it is delivered (${TRIGGER_BOUNDS.maxBatchWait.min} to ${TRIGGER_BOUNDS.maxBatchWait.max}).`, TRIGGER_DEFAULTS.queue.maxBatchWait)),
  maxAttempts: Type.Optional(Type.Integer({ description: 'Counted attempts (the handler threw, timed out or crashed) before a message is dead. A graceful stop or drain never uses one.', minimum: 1, maximum: 1000, default: TRIGGER_DEFAULTS.queue.maxAttempts })),
  backoff: Type.Optional(Type.Object({
    initial: Type.Optional(Duration('Ceiling of the delay before the first retry; each retry doubles it (full jitter).', TRIGGER_DEFAULTS.queue.backoff.initial)),
    max: Type.Optional(Duration('No retry waits longer than this.', TRIGGER_DEFAULTS.queue.backoff.max))
  }, { ...closed, description: 'Delays between attempts: exponential with full jitter, capped.' })),
  deadLetter: Type.Optional(Type.Object({
    queue: Type.Optional(DnsLabel('Another queue of the namespace (one a function declares; without one no copy is made) that receives a copy of each message its handler\'s answer kills, with attributes `deadqueue`, `deadid` and `deadreason`; the dead message stays in `roost dlq list` too.'))
  }, { ...closed, description: 'Where dead messages go besides the queue\'s own dead letters (`roost dlq`).' })),
  maxDepth: Type.Optional(Type.Integer({ description: 'Most messages waiting or in flight; a publish past it is refused with 429 and Retry-After.', minimum: 1, maximum: 1_000_000, default: TRIGGER_DEFAULTS.queue.maxDepth })),
  retention: Type.Optional(Duration(`How long a finished message is kept for its view, and how long its idempotency key refuses duplicates (${TRIGGER_BOUNDS.retention.min} to ${TRIGGER_BOUNDS.retention.max}).`, TRIGGER_DEFAULTS.queue.retention)),
  visibility: Type.Optional(Type.String({
    description: `How long a delivered batch is leased before it counts as lost and is delivered again (${TRIGGER_BOUNDS.visibility.min} to ${TRIGGER_BOUNDS.visibility.max}); the platform renews the lease while the handler runs. Default: the function's timeout + 10s.`,
    pattern: DURATION_PATTERN
  })),
  connector: Type.Optional(StringEnum(QUEUE_CONNECTORS, {
    description: 'What holds the queue: "embedded" (the platform\'s own events database, the default), or a broker you run: "nats" (JetStream), "redis" (Redis Streams) or "rabbitmq". A broker trigger needs `url`; the handler, retries and dead letters (`roost dlq`) are the same on every one.',
    default: 'embedded'
  })),
  url: Type.Optional(Type.String({ description: 'The broker: nats://host:4222, redis://host:6379[/db] (rediss:// for TLS), amqp://host:5672[/vhost] (amqps:// for TLS). No user or password in it: they come from `auth.secret`.', minLength: 1, maxLength: 2048, examples: ['redis://127.0.0.1:6379'] })),
  create: Type.Optional(Type.Boolean({ description: 'Create the stream, consumer group or queue on the broker when it is not there. false: it must exist, and the trigger shows a BrokerMissing condition until it does.', default: true })),
  auth: Type.Optional(Type.Object({
    secret: DnsLabel('A Secret of the function\'s namespace with the broker\'s credentials: keys `username` and `password` (or `token` for NATS). Read when the trigger starts; never shown by the API.')
  }, { ...closed, description: 'Credentials for the broker, from a Secret: never in the manifest or the URL.' })),
  stream: Type.Optional(Type.String({ description: 'nats: the JetStream stream; redis: the stream key.', minLength: 1, maxLength: 255, examples: ['orders'] })),
  subject: Type.Optional(Type.String({ description: 'nats only: the subject filter of the consumer (and where publishes go), e.g. "orders.>".', minLength: 1, maxLength: 255 })),
  consumer: Type.Optional(Type.String({ description: 'nats only: the durable pull consumer\'s name.', minLength: 1, maxLength: 255 })),
  group: Type.Optional(Type.String({ description: 'redis only: the consumer group that reads the stream.', minLength: 1, maxLength: 255 })),
  queue: Type.Optional(Type.String({ description: 'rabbitmq only: the broker\'s queue (a quorum queue when Roost creates it); `name` stays Roost\'s name for the trigger.', minLength: 1, maxLength: 255 })),
  prefetch: Type.Optional(Type.Integer({ description: 'rabbitmq only: how many unacknowledged messages the broker may push ahead of the handler (basic.qos). Default: as many as the function\'s instances may hold at once (scale.max × messages per instance), at least `batch`.', minimum: 1, maximum: 65535 }))
}, { ...closed, description: 'The function consumes a queue: its `queue(batch, ctx)` handler gets the messages.' })

export const CronTriggerSchema = Type.Object({
  schedule: Type.String({ description: 'When to fire: a five-field cron expression (minute hour day-of-month month day-of-week) or an alias such as @hourly, e.g. "*/5 * * * *".', minLength: 1, maxLength: 128, examples: ['*/5 * * * *'] }),
  timezone: Type.Optional(Type.String({ description: 'IANA time zone the schedule is read in, e.g. "Europe/Paris". A time skipped by a daylight-saving change fires at the shifted instant; a time that happens twice fires once.', minLength: 1, maxLength: 64, default: TRIGGER_DEFAULTS.cron.timezone })),
  overlap: Type.Optional(StringEnum(['allow', 'forbid', 'replace'], { description: 'When the previous firing has not finished: "allow" runs both, "forbid" skips the new one, "replace" cancels the previous one and runs the new one.', default: TRIGGER_DEFAULTS.cron.overlap })),
  catchUp: Type.Optional(StringEnum(['skip', 'latest', 'all'], { description: 'Times missed while the platform was down: "skip" none, "latest" the most recent one, "all" every one within `catchUpWindow` (at most 100).', default: TRIGGER_DEFAULTS.cron.catchUp })),
  catchUpWindow: Type.Optional(Duration(`How far back a missed time still counts for catchUp (${TRIGGER_BOUNDS.catchUpWindow.min} to ${TRIGGER_BOUNDS.catchUpWindow.max}).`, TRIGGER_DEFAULTS.cron.catchUpWindow)),
  maxAttempts: Type.Optional(Type.Integer({ description: 'Counted attempts of one firing (the `scheduled` handler threw, timed out or crashed) before it is dead.', minimum: 1, maximum: 100, default: TRIGGER_DEFAULTS.cron.maxAttempts }))
}, { ...closed, description: 'The function runs on a schedule: its `scheduled(event, ctx)` handler gets each firing.' })

// One mapping with either key rather than a union: a mistake inside one kind is then reported in its own words.
export const TriggerSchema = Type.Object({
  queue: Type.Optional(QueueTriggerSchema),
  cron: Type.Optional(CronTriggerSchema)
}, { ...closed, description: 'One event source of the function: `queue:` or `cron:` (exactly one).' })

// One mapping with either key, as TriggerSchema: a destination is `queue:` or `function:` (exactly one).
export const AsyncDestinationSchema = Type.Object({
  queue: Type.Optional(DnsLabel('A queue of the namespace that a function declares in its spec.triggers; it receives the result as a JSON message. Not declared when the result comes: the result is dropped, with a Warning event on this function.')),
  function: Type.Optional(DnsLabel('A function of the same namespace; the result is its async call (POST, the result as JSON body).'))
}, { ...closed, description: 'Where a result goes: `queue:` or `function:` (exactly one). It gets the JSON an X-Callback-Url gets: callId, status, statusCode, headers, body, attempts.' })

export const AsyncSchema = Type.Object({
  onSuccess: Type.Optional(AsyncDestinationSchema),
  onFailure: Type.Optional(AsyncDestinationSchema)
}, { ...closed, description: 'Where the results of async calls of this function go, besides an X-Callback-Url: onSuccess for a succeeded call, onFailure for a failed or expired one. A result that is itself a destination delivery more than 3 hops deep goes nowhere.' })

export const TrafficTargetSchema = Type.Object({
  version: Type.Integer({ description: 'Version number (the N of vN) that receives this share.', minimum: 1 }),
  percent: Type.Integer({ description: 'Share of requests, 0 to 100; the shares add up to 100.', minimum: 0, maximum: 100 }),
  tag: Type.Optional(DnsLabel('A name that reaches this version directly, whatever its percent (a DNS label).')),
  lane: Type.Optional(Type.String({
    description: 'A lane whose requests (labelled by spec.governance.lanes or a TrafficLabelRule) go to this version, whatever its percent.',
    pattern: LANE_NAME_PATTERN,
    maxLength: 63
  }))
}, { ...closed, description: 'A share of traffic sent to one version.' })

export const EnvVarSourceSchema = Type.Object({
  valueFrom: Type.Object({ secretKeyRef: SecretKeyRefSchema }, { ...closed, description: 'Where the value comes from.' })
}, { ...closed, description: 'A value taken from a Secret when the version is made; the API shows this reference, never the value.' })

export const EnvFromSourceSchema = Type.Object({
  secretRef: Type.Object({ name: DnsLabel('Name of a Secret in the function\'s namespace.') }, { ...closed, description: 'A Secret whose every key becomes a variable.' })
}, { ...closed, description: 'Variables taken from every key of a Secret; `env` wins over them.' })

export const FunctionSpecSchema = Type.Object({
  source: FunctionSourceSchema,
  env: Type.Optional(Type.Record(
    Type.String(),
    Type.Union([Type.String({ description: 'Value of the environment variable.' }), EnvVarSourceSchema]),
    {
      description: 'Environment variables of each instance. Names are letters, digits and "_", not starting with a digit; names starting with ROOST_ are reserved.',
      propertyNames: { pattern: ENV_NAME_PATTERN }
    }
  )),
  envFrom: Type.Optional(Type.Array(EnvFromSourceSchema, { description: 'Secrets whose every key becomes an environment variable, later ones winning.', maxItems: 20 })),
  timeout: Type.Optional(Duration(`Longest a request may take, from ${FUNCTION_BOUNDS.timeout.min} to ${FUNCTION_BOUNDS.timeout.max}, such as "30s" or "500ms".`, FUNCTION_DEFAULTS.timeout)),
  memory: Type.Optional(Type.String({
    description: `Memory per instance (V8 heap limit), from ${FUNCTION_BOUNDS.memory.min} to ${FUNCTION_BOUNDS.memory.max}, such as "128Mi" or "1Gi".`,
    pattern: MEMORY_PATTERN,
    default: FUNCTION_DEFAULTS.memory,
    examples: [FUNCTION_DEFAULTS.memory]
  })),
  concurrency: Type.Optional(Type.Integer({ description: 'Hard limit of requests in flight per instance.', minimum: 1, maximum: 1000, default: FUNCTION_DEFAULTS.concurrency })),
  scale: Type.Optional(ScaleSchema),
  http: Type.Optional(HttpSchema),
  traffic: Type.Optional(Type.Array(TrafficTargetSchema, {
    description: 'How requests are split between versions; the percents add up to 100. Absent: all traffic goes to the latest version.',
    minItems: 1,
    maxItems: 10
  })),
  governance: Type.Optional(GovernanceSchema),
  triggers: Type.Optional(Type.Array(TriggerSchema, { description: 'Events besides HTTP requests that run the function: queues it consumes and schedules it runs on.', maxItems: 20 })),
  async: Type.Optional(AsyncSchema)
}, { ...closed, description: 'What the function runs and how it is served.' })

export const FunctionManifestSchema = Type.Object({
  apiVersion: StringEnum([API_VERSION], { description: `API version of the resource: ${API_VERSION}.` }),
  kind: StringEnum([FUNCTION_KIND], { description: `Kind of the resource: ${FUNCTION_KIND}.` }),
  metadata: MetadataSchema,
  spec: FunctionSpecSchema
}, { ...closed, description: `A function deployed on Roost (apiVersion ${API_VERSION}, kind ${FUNCTION_KIND}). Apply it with \`roost apply -f <file>\`.` })

// A manifest as a user writes it: optional fields may be absent.
export type FunctionManifest = Static<typeof FunctionManifestSchema>
export type SourceLoader = Static<typeof SourceLoaderSchema>
export type ScaleMetric = Static<typeof ScaleMetricSchema>
export type ScaleMetricTarget = Static<typeof ScaleMetricTargetSchema>
export type ScheduleEntry = Static<typeof ScheduleEntrySchema>
export type HttpAuthManifest = Static<typeof HttpAuthSchema>
export type AuthMode = Static<typeof AuthModeSchema>
export type JwtKeySpec = Static<typeof JwtKeySchema>
export type TrafficTarget = Static<typeof TrafficTargetSchema>
export type TriggerManifest = Static<typeof TriggerSchema>

// The normalized resource: every default filled in, so no consumer needs to know them.
export interface FunctionResource {
  apiVersion: typeof API_VERSION
  kind: typeof FUNCTION_KIND
  metadata: FunctionMetadata
  spec: FunctionSpec
}

export interface FunctionMetadata {
  name: string
  namespace: string
  labels: Record<string, string>
}

export interface InlineSource {
  inline: string
  loader: SourceLoader
}

// A path (relative to the manifest) or inline code.
export type FunctionSource = string | InlineSource

export type EnvVarSource = Static<typeof EnvVarSourceSchema>
export type EnvFromSource = Static<typeof EnvFromSourceSchema>
/** A variable's value: a literal, or a reference to a Secret's key. */
export type EnvValue = string | EnvVarSource

export interface FunctionSpec {
  source: FunctionSource
  env: Record<string, EnvValue>
  // Absent when the manifest has none.
  envFrom?: EnvFromSource[]
  timeout: string
  memory: string
  concurrency: number
  scale: ScaleSpec
  http: HttpSpec
  // Absent: all traffic goes to the latest version.
  traffic?: TrafficTarget[]
  // As written (the governance part fills the defaults when it compiles); absent when the manifest has none.
  governance?: GovernanceSpec
  // Absent when the manifest has none.
  triggers?: FunctionTrigger[]
  // Absent when the manifest has none (or an empty one).
  async?: AsyncSpec
}

/** Normalized: exactly one of the two. */
export type AsyncDestination = { queue: string } | { function: string }

export interface AsyncSpec {
  onSuccess?: AsyncDestination
  onFailure?: AsyncDestination
}

/** Normalized: exactly one of the two, with its defaults filled. */
export type FunctionTrigger = { queue: QueueTriggerSpec } | { cron: CronTriggerSpec }

export type CronOverlap = 'allow' | 'forbid' | 'replace'
export type CronCatchUp = 'skip' | 'latest' | 'all'

export interface QueueTriggerSpec {
  name: string
  batch: number
  // The embedded queue's (filled there); absent on a broker trigger, which refuses them.
  maxBatchWait?: string
  maxAttempts: number
  backoff: { initial: string, max: string }
  // Absent: dead messages stay in the queue's dead letters only.
  deadLetter?: { queue?: string }
  maxDepth?: number
  retention?: string
  // Absent: the function's timeout + 10s.
  visibility?: string
  // Absent: the embedded queue. The rest below are present only on a broker trigger, as written (create filled).
  connector?: Exclude<QueueConnector, 'embedded'>
  url?: string
  create?: boolean
  auth?: { secret: string }
  stream?: string
  subject?: string
  consumer?: string
  group?: string
  queue?: string
  prefetch?: number
}

export interface CronTriggerSpec {
  schedule: string
  timezone: string
  overlap: CronOverlap
  catchUp: CronCatchUp
  catchUpWindow: string
  maxAttempts: number
}

export interface ScaleSpec {
  min: number
  max: number
  metric: ScaleMetric
  target: number
  utilization: number
  window: string
  scaleDownDelay: string
  // Present only when given: `metric`/`target` then hold the first entry.
  metrics?: ScaleMetricTarget[]
  schedule?: ScheduleEntry[]
}

export interface HttpSpec {
  // Absent: only /fn/<name> and /fn/<name>.<namespace>.
  path?: string
  // Absent: the routes answer on every host. Present: `path` (or every path) on this host only.
  host?: string
  auth: HttpAuth
}

/** Normalized: the modes without settings as their name, hmac and jwt as a mapping with its defaults filled. */
export type HttpAuth = 'none' | 'key' | 'private' | HmacAuthSpec | JwtAuthSpec

export interface HmacAuthSpec {
  mode: 'hmac'
  secretRef: { name: string, key?: string }
  tolerance: string
  replayCacheSize: number
}

export interface JwtAuthSpec {
  mode: 'jwt'
  issuer?: string
  audience?: string
  clockSkew: string
  keys?: JwtKeySpec[]
  jwks?: { keys: Array<Record<string, unknown>> }
  // Present only until `roost apply` has read it; the platform refuses a manifest that still has it.
  keysFile?: string
}
