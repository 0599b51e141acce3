// The Function manifest as a standalone JSON Schema (draft 2020-12) for editors, e.g.
// yaml-language-server with `# yaml-language-server: $schema=<url or path>` at the top of a
// manifest. Generated from FunctionManifestSchema, so it cannot drift from what the API
// accepts, and tightened with every rule of validate.ts that JSON Schema can say (ranges of
// durations and memory as patterns, reserved names, the default max, exclusive fields), so
// that an editor flags what the platform would reject. What it cannot say stays in the
// descriptions and in validate.ts: min ≤ max when both are given (a schema cannot compare
// two values), percents adding up to 100, versions and tags listed twice, whether a cron
// expression's values are in range, whether a time zone exists and whether a JWT key is a
// public key of its alg.

import { RULE_KINDS } from '../governance/index.js'
import { AUTH_BOUNDS, BROKER_QUEUE_FIELDS, EMBEDDED_ONLY_QUEUE_FIELDS, FunctionManifestSchema, FUNCTION_BOUNDS, FUNCTION_DEFAULTS, RESERVED_HTTP_PATHS } from './function-schema.js'
import { parseDuration, parseMemory } from './quantities.js'
import { quantityRangePattern } from './range-pattern.js'
import { ruleManifestSchema } from './rule-schemas.js'
import { SERVED_KINDS } from './served-kinds.js'

export const FUNCTION_SCHEMA_ID = 'https://roost.dev/schemas/function.json'
export const RULES_SCHEMA_ID = 'https://roost.dev/schemas/opensergo-rules.json'

// Five fields of the characters cron-parser reads (digits, names, * , / - ? L #).
export const CRON_SHAPE_PATTERN = '^\\s*[0-9A-Za-z*,/?#-]+(\\s+[0-9A-Za-z*,/?#-]+){4}\\s*$'
// An IANA zone name's shape: "UTC", "Europe/Paris", "Etc/GMT+5"; whether it exists is checked on apply.
export const TIME_ZONE_SHAPE_PATTERN = '^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$'

type Node = Record<string, any>

const DURATION_UNITS = { ms: parseDuration('1ms'), s: parseDuration('1s'), m: parseDuration('1m'), h: parseDuration('1h') }
const MEMORY_UNITS = { Mi: parseMemory('1Mi'), Gi: parseMemory('1Gi') }

function durationPattern (bounds: { min: string, max?: string }): string {
  return quantityRangePattern(DURATION_UNITS, parseDuration(bounds.min), bounds.max === undefined ? Infinity : parseDuration(bounds.max))
}

/** The manifest schema with the rules JSON Schema can express added; it shares nothing with the live schema. */
export function strictManifestSchema (): Node {
  // A JSON round trip drops TypeBox's symbol-keyed bookkeeping.
  const body = JSON.parse(JSON.stringify(FunctionManifestSchema)) as Node
  const spec = body.properties.spec.properties
  spec.timeout.pattern = durationPattern(FUNCTION_BOUNDS.timeout)
  spec.memory.pattern = quantityRangePattern(MEMORY_UNITS, parseMemory(FUNCTION_BOUNDS.memory.min), parseMemory(FUNCTION_BOUNDS.memory.max))
  spec.env.propertyNames.not = { pattern: '^ROOST_', description: 'names starting with ROOST_ are reserved for the platform' }
  spec.http.properties.path.not = {
    description: 'paths the gateway serves itself, and "." or ".." segments (URLs resolve them away)',
    anyOf: [{ enum: [...RESERVED_HTTP_PATHS] }, { pattern: '^/(fn|async|_roost)/' }, { pattern: '/\\.\\.?(/|$)' }]
  }
  tightenAuth(spec.http.properties.auth)
  tightenQueueTrigger(spec.triggers.items.properties.queue)
  const scale = spec.scale
  scale.properties.window.pattern = durationPattern(FUNCTION_BOUNDS.window)
  scale.properties.scaleDownDelay.pattern = durationPattern(FUNCTION_BOUNDS.scaleDownDelay)
  const entry = scale.properties.schedule.items.properties
  entry.cron.pattern = CRON_SHAPE_PATTERN
  entry.timezone.pattern = TIME_ZONE_SHAPE_PATTERN
  const defaultMax = FUNCTION_DEFAULTS.scale.max
  scale.allOf = [
    {
      description: `without max, the default max (${defaultMax}) bounds min and the scheduled floors`,
      if: { not: { required: ['max'] } },
      then: { properties: { min: { maximum: defaultMax }, schedule: { items: { properties: { min: { maximum: defaultMax } } } } } }
    },
    {
      description: 'either metrics or metric and target',
      if: { required: ['metrics'] },
      then: { not: { anyOf: [{ required: ['metric'] }, { required: ['target'] }] } }
    },
    ...['concurrency', 'rps'].map((metric) => ({
      description: `${metric} listed once in metrics`,
      properties: { metrics: { not: { contains: { properties: { metric: { const: metric } } }, minContains: 2 } } }
    }))
  ]
  return body
}

// The settings each mode of spec.http.auth takes (auth-rules.ts says the same in messages).
const HMAC_SETTINGS = ['secretRef', 'tolerance', 'replayCacheSize']
const JWT_SETTINGS = ['issuer', 'audience', 'clockSkew', 'keys', 'jwks', 'keysFile']
const refuse = (names: string[]): Node => Object.fromEntries(names.map((name) => [name, false]))

/** What each auth mode needs and takes, the ranges of its durations, and the one source of each JWT key. */
function tightenAuth (auth: Node): void {
  const [names, settings] = auth.anyOf as [Node, Node]
  names.enum = ['none', 'key', 'private']
  names.description = `${String(names.description)} As a bare name only "none", "key" and "private": hmac and jwt need their settings.`
  settings.properties.tolerance.pattern = durationPattern(AUTH_BOUNDS.tolerance)
  settings.properties.clockSkew.pattern = `^0+(?:ms|s|m|h)$|${durationPattern({ min: '1ms', max: AUTH_BOUNDS.clockSkew.max })}`
  const mode = (values: string[]): Node => ({ required: ['mode'], properties: { mode: { enum: values } } })
  settings.allOf = [
    { description: 'hmac needs secretRef and takes the hmac settings only', if: mode(['hmac']), then: { required: ['secretRef'], properties: refuse(JWT_SETTINGS) } },
    {
      description: 'jwt needs keys, jwks or keysFile and takes the jwt settings only',
      if: mode(['jwt']),
      then: { anyOf: [{ required: ['keys'] }, { required: ['jwks'] }, { required: ['keysFile'] }], properties: refuse(HMAC_SETTINGS) }
    },
    { description: 'none, key and private take no settings', if: mode(['none', 'key', 'private']), then: { properties: refuse([...HMAC_SETTINGS, ...JWT_SETTINGS]) } }
  ]
  settings.properties.keys.items.allOf = [
    { description: 'exactly one of pem, jwk and secretRef', oneOf: [{ required: ['pem'] }, { required: ['jwk'] }, { required: ['secretRef'] }] },
    { description: 'a secretRef is an HS256 secret', if: { required: ['secretRef'] }, then: { properties: { alg: { const: 'HS256' } } } },
    { description: 'an HS256 key comes from a Secret', if: { required: ['alg'], properties: { alg: { const: 'HS256' } } }, then: { required: ['secretRef'] } }
  ]
}

/** Which fields each connector takes (broker-trigger-rules.ts says the same in messages). */
function tightenQueueTrigger (queue: Node): void {
  const brokers = ['nats', 'redis', 'rabbitmq']
  const connector = (values: string[]): Node => ({ required: ['connector'], properties: { connector: { enum: values } } })
  queue.allOf = [
    {
      description: 'the embedded queue (no connector, or embedded) takes no broker field',
      if: { not: connector(brokers) },
      then: { properties: refuse(Object.keys(BROKER_QUEUE_FIELDS)) }
    },
    ...brokers.map((kind) => ({
      description: `a ${kind} trigger needs url and takes its own fields only, none of the embedded queue's`,
      if: connector([kind]),
      then: {
        required: ['url', ...({ nats: ['stream', 'consumer'], redis: ['stream', 'group'], rabbitmq: [] } as Record<string, string[]>)[kind] as string[]],
        properties: refuse([...EMBEDDED_ONLY_QUEUE_FIELDS, ...Object.entries(BROKER_QUEUE_FIELDS).filter(([, kinds]) => !(kinds as readonly string[]).includes(kind)).map(([name]) => name)])
      }
    })),
    { description: 'credentials come from auth.secret, never the URL', properties: { url: { not: { pattern: '^[A-Za-z][A-Za-z0-9+.-]*://[^/@]*@' } } } }
  ]
}

export function functionJsonSchema (): object {
  const body = strictManifestSchema()
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: FUNCTION_SCHEMA_ID,
    title: 'Roost Function',
    description: body.description, // placed here for readers of the file; the spread keeps the position
    ...body
  }
}

// The exact text of schema/function.schema.json: the writer and the staleness test share it.
export function functionJsonSchemaText (): string {
  return `${JSON.stringify(functionJsonSchema(), null, 2)}\n`
}

/**
 * The OpenSergo kinds Roost accepts, as one schema for editors: a document's
 * `kind` picks its schema, so an editor reports the errors of that kind only.
 * Which spellings go together and what durations mean stay in validation.
 */
export function rulesJsonSchema (): object {
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: RULES_SCHEMA_ID,
    title: 'Roost OpenSergo rules',
    description: 'RateLimitStrategy, ThrottlingStrategy, ConcurrencyLimitStrategy, CircuitBreakerStrategy, HttpRequestFallbackAction and FaultToleranceRule (fault-tolerance.opensergo.io/v1alpha1), and TrafficLabelRule (traffic.opensergo.io/v1alpha1), as `roost apply -f` takes them.',
    type: 'object',
    required: ['apiVersion', 'kind', 'metadata', 'spec'],
    properties: {
      kind: { description: 'Kind of the rule.', enum: SERVED_KINDS.filter((k) => k.kind !== 'Function').map((k) => k.kind) }
    },
    allOf: RULE_KINDS.map((kind) => ({
      if: { properties: { kind: { const: kind } }, required: ['kind'] },
      then: JSON.parse(JSON.stringify(ruleManifestSchema(kind))) as Node
    }))
  }
}

export function rulesJsonSchemaText (): string {
  return `${JSON.stringify(rulesJsonSchema(), null, 2)}\n`
}
