// Validation of resources: kind check, schema (Ajv), then rules the schema cannot
// express. Every problem found is reported at once, each with the dotted path of its
// field and a message written for a person, not for a schema author.

import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js'
import { UnknownKindError, ValidationError, type FieldProblem } from '../errors/index.js'
import {
  API_VERSION, DNS_LABEL_PATTERN, DURATION_PATTERN, ENV_NAME_PATTERN, FUNCTION_BOUNDS, FUNCTION_DEFAULTS,
  FUNCTION_KIND, FunctionManifestSchema, HTTP_PATH_PATTERN, LABEL_KEY_PATTERN, MEMORY_PATTERN, RESERVED_HTTP_PATHS, TIME_OF_DAY_PATTERN,
  type FunctionManifest, type FunctionResource, type FunctionSource, type HttpSpec, type ScaleSpec
} from './function-schema.js'
import { authProblems, normalizeAuth } from './auth-rules.js'
import { parseDuration, parseMemory } from './quantities.js'
import { scheduleProblems } from './schedule-rules.js'

// Compiled once: compiling costs milliseconds, validating microseconds.
const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true })
const checkFunctionManifest = ajv.compile(FunctionManifestSchema)

// The (apiVersion, kind) pairs validate* accept; named in UnknownKindError messages.
const SUPPORTED_KINDS = [{ apiVersion: API_VERSION, kind: FUNCTION_KIND }] as const

type Doc = Record<string, unknown>

export function validateFunction (doc: unknown): FunctionResource {
  if (!isRecord(doc)) {
    throw new ValidationError([{ field: '', message: `expected a mapping with apiVersion, kind, metadata and spec, got ${show(doc)}` }])
  }
  checkKind(doc)
  // A planned feature's own message replaces the schema's "unknown field" or "expected ...".
  const unsupported = unsupportedFeatures(doc)
  const planned = new Set(unsupported.map((p) => p.field))
  const problems = new ProblemList()
  const valid = checkFunctionManifest(doc)
  if (!valid) problems.add(schemaProblems(doc, checkFunctionManifest.errors ?? []).filter((p) => !planned.has(p.field)))
  problems.add(unsupported)
  problems.add(ruleProblems(doc))
  if (problems.size > 0) throw new ValidationError(problems.list())
  return normalize(doc as FunctionManifest)
}

// ---------------------------------------------------------------------------
// kind and apiVersion

// A document of another kind must not be judged by the Function schema: its errors
// would all be noise. Missing values are left to the schema, which reports them as required.
function checkKind (doc: Doc): void {
  const { apiVersion, kind } = doc
  const served = SUPPORTED_KINDS.some((k) =>
    (typeof apiVersion !== 'string' || apiVersion === k.apiVersion) && (typeof kind !== 'string' || kind === k.kind))
  if (served) return
  const found = `kind ${showOptional(kind)} in apiVersion ${showOptional(apiVersion)}`
  const supported = SUPPORTED_KINDS.map((k) => `${k.kind} in ${k.apiVersion}`).join(', ')
  const field = SUPPORTED_KINDS.some((k) => kind === k.kind) ? 'apiVersion' : 'kind'
  const nearKind = SUPPORTED_KINDS.find((k) => typeof kind === 'string' && kind.toLowerCase() === k.kind.toLowerCase())
  const hint = nearKind !== undefined && kind !== nearKind.kind
    ? `kinds are case-sensitive: write kind: ${nearKind.kind}`
    : `write apiVersion: ${API_VERSION} and kind: ${FUNCTION_KIND}`
  throw new UnknownKindError(`${found} is not served; supported: ${supported}`, { field, hint })
}

function showOptional (value: unknown): string {
  return value === undefined ? '(none)' : show(value)
}

// ---------------------------------------------------------------------------
// features DESIGN.md names but Roost does not run yet: say so, rather than "unknown field"

function unsupportedFeatures (doc: Doc): FieldProblem[] {
  const spec = recordAt(doc, 'spec')
  const problems: FieldProblem[] = []
  if (spec?.triggers !== undefined) {
    problems.push({ field: 'spec.triggers', message: 'triggers (cron, queue) are not supported yet; remove spec.triggers and call the function over HTTP' })
  }
  if (recordAt(spec, 'scale')?.metric === 'queue') {
    problems.push({ field: 'spec.scale.metric', message: '"queue" is not supported yet (it needs queue triggers); use "concurrency" or "rps"' })
  }
  return problems
}

// ---------------------------------------------------------------------------
// Ajv errors → field problems, all in this section

// The subset of JSON Schema our messages read.
interface SchemaNode {
  type?: string
  enum?: unknown[]
  const?: unknown
  pattern?: string
  minLength?: number
  maxLength?: number
  minimum?: number
  maximum?: number
  exclusiveMinimum?: number
  exclusiveMaximum?: number
  minItems?: number
  maxItems?: number
  anyOf?: SchemaNode[]
  properties?: Record<string, SchemaNode>
  required?: string[]
  propertyNames?: SchemaNode
}

// Strings whose pattern is better explained in words than as a regular expression.
const explainString: Record<string, (got: string) => string> = {
  [DNS_LABEL_PATTERN]: (got) => `${got} is not a valid name: use lower-case letters, digits and "-" (a DNS label, at most 63 characters)`,
  [DURATION_PATTERN]: (got) => `expected a duration such as "30s" or "500ms", got ${got}`,
  [MEMORY_PATTERN]: (got) => `expected a memory size such as "128Mi" or "1Gi", got ${got}`,
  [TIME_OF_DAY_PATTERN]: (got) => `expected a time of day as HH:MM (24-hour), such as "18:00", got ${got}`,
  [HTTP_PATH_PATTERN]: (got) => `${got} is not a valid path: use "/" and segments of letters, digits, ".", "_", "~" and "-", without a trailing "/" (at most 256 characters)`
}

// The same for keys of a mapping (propertyNames).
const explainKey: Record<string, (got: string) => string> = {
  [ENV_NAME_PATTERN]: (got) => `${got} is not a valid environment variable name: use letters, digits and "_", not starting with a digit`,
  [LABEL_KEY_PATTERN]: (got) => `${got} is not a valid label key: use an optional DNS prefix and "/", then at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit`
}

function schemaProblems (doc: Doc, errors: ErrorObject[]): FieldProblem[] {
  return resolveUnions(errors)
    .filter((e) => !e.schemaPath.includes('/propertyNames/')) // reported once by their propertyNames error
    .map((e) => problemOf(doc, e))
}

function problemOf (doc: Doc, e: ErrorObject): FieldProblem {
  const schema = (e.parentSchema ?? {}) as SchemaNode
  const params = e.params as Record<string, unknown>
  switch (e.keyword) {
    case 'required':
      return { field: fieldPath(doc, e.instancePath, String(params.missingProperty)), message: 'required' }
    case 'additionalProperties': {
      const key = String(params.additionalProperty)
      const suggestion = closest(key, Object.keys(schema.properties ?? {}))
      return {
        field: fieldPath(doc, e.instancePath, key),
        message: suggestion === undefined ? 'unknown field' : `unknown field; did you mean "${suggestion}"?`
      }
    }
    case 'propertyNames': {
      const key = String(params.propertyName)
      const explain = explainKey[schema.propertyNames?.pattern ?? '']
      return {
        field: fieldPath(doc, e.instancePath, key),
        message: explain !== undefined ? explain(show(key)) : `${show(key)} is not a valid key`
      }
    }
    default: {
      const explain = explainString[schema.pattern ?? '']
      return {
        field: fieldPath(doc, e.instancePath),
        message: explain !== undefined ? explain(show(e.data)) : `expected ${describe(schema)}, got ${show(e.data)}`
      }
    }
  }
}

// A failed anyOf comes with the errors of every branch. The useful ones are those of the
// branch the value was meant for: the first whose type fits. If none fits, the anyOf error
// alone stays, and reads "expected A or B".
function resolveUnions (errors: ErrorObject[]): ErrorObject[] {
  const unions = errors.filter((e) => e.keyword === 'anyOf').sort((a, b) => b.schemaPath.length - a.schemaPath.length)
  let result = errors
  for (const union of unions) {
    const prefix = `${union.schemaPath}/`
    const branches = new Map<string, ErrorObject[]>()
    for (const e of result) {
      if (!e.schemaPath.startsWith(prefix)) continue
      const branch = e.schemaPath.slice(prefix.length).split('/')[0] as string
      branches.set(branch, [...(branches.get(branch) ?? []), e])
    }
    const fitting = [...branches.values()].find((errs) => !errs.some((e) => isShapeMismatch(e, union.instancePath)))
    result = result.flatMap((e) => {
      if (e.schemaPath.startsWith(prefix)) return []
      return e === union && fitting !== undefined ? fitting : [e]
    })
  }
  return result
}

function isShapeMismatch (e: ErrorObject, instancePath: string): boolean {
  return e.instancePath === instancePath && (e.keyword === 'type' || e.keyword === 'enum' || e.keyword === 'const')
}

// "an integer ≥ 1", "a list of 1 to 10 entries", "\"ts\" or \"js\"": what a schema accepts, in words.
function describe (schema: SchemaNode): string {
  if (schema.anyOf !== undefined) return joinList(schema.anyOf.map(describe), 'or')
  if (schema.enum !== undefined) return joinList(schema.enum.map((v) => JSON.stringify(v)), 'or')
  if (schema.const !== undefined) return JSON.stringify(schema.const)
  switch (schema.type) {
    case 'integer': return withRange('an integer', schema)
    case 'number': return withRange('a number', schema)
    case 'string': return describeString(schema)
    case 'array': return describeList(schema)
    case 'object': return schema.required !== undefined && schema.required.length > 0
      ? `a mapping with ${joinList(schema.required.map((k) => JSON.stringify(k)), 'and')}`
      : 'a mapping'
    case 'boolean': return 'true or false'
    default: return 'a value'
  }
}

function withRange (noun: string, s: SchemaNode): string {
  if (s.minimum !== undefined && s.maximum !== undefined) return `${noun} from ${s.minimum} to ${s.maximum}`
  const bounds = [
    s.minimum !== undefined ? `≥ ${s.minimum}` : undefined,
    s.exclusiveMinimum !== undefined ? `> ${s.exclusiveMinimum}` : undefined,
    s.maximum !== undefined ? `≤ ${s.maximum}` : undefined,
    s.exclusiveMaximum !== undefined ? `< ${s.exclusiveMaximum}` : undefined
  ].filter((b) => b !== undefined)
  return bounds.length === 0 ? noun : `${noun} ${bounds.join(' and ')}`
}

function describeString (s: SchemaNode): string {
  if (s.maxLength !== undefined) return `a string of at most ${s.maxLength} characters`
  if (s.minLength !== undefined && s.minLength > 0) return 'a non-empty string'
  return 'a string'
}

function describeList (s: SchemaNode): string {
  if (s.minItems !== undefined && s.maxItems !== undefined) return `a list of ${s.minItems} to ${s.maxItems} entries`
  if (s.minItems !== undefined) return `a list of at least ${s.minItems} entries`
  if (s.maxItems !== undefined) return `a list of at most ${s.maxItems} entries`
  return 'a list'
}

// ['a', 'b', 'c'] → 'a, b or c'
function joinList (items: string[], conjunction: 'or' | 'and'): string {
  if (items.length <= 1) return items[0] ?? 'nothing'
  return `${items.slice(0, -1).join(', ')} ${conjunction} ${items[items.length - 1] as string}`
}

// A value as it appears after "got": short, and for containers their shape only.
function show (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (value === null) return 'null'
  if (value === undefined) return 'nothing'
  if (Array.isArray(value)) return value.length === 1 ? 'a list of 1 entry' : `a list of ${value.length} entries`
  if (typeof value === 'object') return 'a mapping'
  return String(value)
}

// JSON pointer "/spec/traffic/1/percent" → "spec.traffic[1].percent". The document decides
// whether a segment is an index: a label key may well be "1".
function fieldPath (doc: Doc, pointer: string, lastKey?: string): string {
  const segments = pointer === '' ? [] : pointer.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
  let path = ''
  let node: unknown = doc
  for (const segment of segments) {
    if (Array.isArray(node)) {
      path += `[${segment}]`
      node = node[Number(segment)]
    } else {
      path = appendKey(path, segment)
      node = isRecord(node) ? node[segment] : undefined
    }
  }
  return lastKey === undefined ? path : appendKey(path, lastKey)
}

function appendKey (path: string, key: string): string {
  if (!/^[A-Za-z_$][\w$-]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`
  return path === '' ? key : `${path}.${key}`
}

// The known name a typo was probably meant as: same letters in another case, or at most
// two edits away.
function closest (word: string, candidates: string[]): string | undefined {
  const lower = word.toLowerCase()
  const sameLetters = candidates.find((c) => c.toLowerCase() === lower)
  if (sameLetters !== undefined) return sameLetters
  let best: { name: string, distance: number } | undefined
  for (const c of candidates) {
    const distance = editDistance(lower, c.toLowerCase())
    if (distance <= 2 && distance < c.length && (best === undefined || distance < best.distance)) best = { name: c, distance }
  }
  return best?.name
}

function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] as number) + (a[i - 1] === b[j - 1] ? 0 : 1)
      current.push(Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, substitution))
    }
    previous = current
  }
  return previous[b.length] as number
}

// ---------------------------------------------------------------------------
// rules across fields, and ranges of quantities. They run even when the schema failed
// (so one pass reports everything), hence each looks only at values of the right shape
// and leaves the others to the schema's messages.

function ruleProblems (doc: Doc): FieldProblem[] {
  const spec = recordAt(doc, 'spec')
  if (spec === undefined) return []
  const scale = recordAt(spec, 'scale')
  return [
    ...durationRange(spec.timeout, 'spec.timeout', FUNCTION_BOUNDS.timeout),
    ...memoryRange(spec.memory, 'spec.memory'),
    ...reservedEnvNames(recordAt(spec, 'env')),
    ...durationRange(scale?.window, 'spec.scale.window', FUNCTION_BOUNDS.window),
    ...durationRange(scale?.scaleDownDelay, 'spec.scale.scaleDownDelay', FUNCTION_BOUNDS.scaleDownDelay),
    ...minNotAboveMax(scale),
    ...metricsRules(scale),
    ...scheduleRules(scale),
    ...httpPathRules(recordAt(spec, 'http')?.path),
    ...authProblems(recordAt(spec, 'http')?.auth),
    ...trafficRules(spec.traffic)
  ]
}

const durationRe = new RegExp(DURATION_PATTERN)
const memoryRe = new RegExp(MEMORY_PATTERN)

function durationRange (value: unknown, field: string, bounds: { min: string, max?: string }): FieldProblem[] {
  if (typeof value !== 'string' || !durationRe.test(value)) return []
  const ms = parseDuration(value)
  const tooLong = bounds.max !== undefined && ms > parseDuration(bounds.max)
  if (ms >= parseDuration(bounds.min) && !tooLong) return []
  const range = bounds.max === undefined ? `of at least ${bounds.min}` : `from ${bounds.min} to ${bounds.max}`
  return [{ field, message: `expected a duration ${range}, got ${show(value)}` }]
}

function memoryRange (value: unknown, field: string): FieldProblem[] {
  if (typeof value !== 'string' || !memoryRe.test(value)) return []
  const { min, max } = FUNCTION_BOUNDS.memory
  const mib = parseMemory(value)
  if (mib >= parseMemory(min) && mib <= parseMemory(max)) return []
  return [{ field, message: `expected a memory size from ${min} to ${max}, got ${show(value)}` }]
}

function reservedEnvNames (env: Doc | undefined): FieldProblem[] {
  return Object.keys(env ?? {})
    .filter((name) => name.startsWith('ROOST_'))
    .map((name) => ({ field: appendKey('spec.env', name), message: 'names starting with ROOST_ are reserved for the platform' }))
}

// Judged with defaults filled in: `min: 20` alone conflicts with the default max.
function minNotAboveMax (scale: Doc | undefined): FieldProblem[] {
  if (scale === undefined) return []
  const min = scale.min ?? FUNCTION_DEFAULTS.scale.min
  const max = scale.max ?? FUNCTION_DEFAULTS.scale.max
  if (!Number.isInteger(min) || !Number.isInteger(max) || (min as number) <= (max as number)) return []
  const maxNote = scale.max === undefined ? `${String(max)}, the default` : String(max)
  return [{ field: 'spec.scale.min', message: `${String(min)} is more than spec.scale.max (${maxNote})` }]
}

function metricsRules (scale: Doc | undefined): FieldProblem[] {
  if (scale?.metrics === undefined) return []
  const problems: FieldProblem[] = []
  for (const single of ['metric', 'target']) {
    if (scale[single] !== undefined) problems.push({ field: `spec.scale.${single}`, message: `give either spec.scale.metrics or spec.scale.${single}, not both` })
  }
  if (Array.isArray(scale.metrics)) {
    const seen = new Set<unknown>()
    scale.metrics.forEach((entry: unknown, i) => {
      const metric = (entry as Doc | null)?.metric
      if (seen.has(metric)) problems.push({ field: `spec.scale.metrics[${i}].metric`, message: `${show(metric)} is listed twice` })
      seen.add(metric)
    })
  }
  return problems
}

function scheduleRules (scale: Doc | undefined): FieldProblem[] {
  const max = scale?.max ?? FUNCTION_DEFAULTS.scale.max
  return scheduleProblems(scale?.schedule, Number.isInteger(max) ? max as number : Infinity)
}

function httpPathRules (path: unknown): FieldProblem[] {
  if (typeof path !== 'string' || !new RegExp(HTTP_PATH_PATTERN).test(path)) return []
  const field = 'spec.http.path'
  if (RESERVED_HTTP_PATHS.some((p) => path === p) || path.startsWith('/fn/')) {
    return [{ field, message: `${show(path)} is reserved: the gateway serves /fn/<name>, /healthz and /metrics itself` }]
  }
  // URLs are normalized before routing, so a route with such a segment could never match.
  if (path.split('/').some((s) => s === '.' || s === '..')) {
    return [{ field, message: `${show(path)} has a "." or ".." segment, which URLs resolve away` }]
  }
  return []
}

function trafficRules (traffic: unknown): FieldProblem[] {
  if (!Array.isArray(traffic)) return []
  const entries = traffic.map((t) => (isRecord(t) ? t : {}))
  const problems: FieldProblem[] = []
  const percents = entries.map((t) => t.percent)
  if (traffic.length > 0 && percents.every((p) => Number.isInteger(p))) {
    const sum = (percents as number[]).reduce((a, b) => a + b, 0)
    if (sum !== 100) problems.push({ field: 'spec.traffic', message: `the percents add up to ${sum}; they must add up to 100` })
  }
  problems.push(...duplicates(entries, 'version', (v) => `version ${String(v)} is listed twice`))
  problems.push(...duplicates(entries, 'tag', (v) => `tag ${show(v)} is used twice`))
  return problems
}

function duplicates (entries: Doc[], key: string, message: (value: unknown) => string): FieldProblem[] {
  const firstAt = new Map<unknown, number>()
  const problems: FieldProblem[] = []
  entries.forEach((entry, i) => {
    const value = entry[key]
    if (typeof value !== 'string' && typeof value !== 'number') return
    const first = firstAt.get(value)
    if (first === undefined) firstAt.set(value, i)
    else problems.push({ field: `spec.traffic[${i}].${key}`, message: `${message(value)} (also at spec.traffic[${first}])` })
  })
  return problems
}

// ---------------------------------------------------------------------------
// normalization: a fresh object with every default filled; nothing shared with the input

function normalize (m: FunctionManifest): FunctionResource {
  const { metadata, spec } = m
  const resource: FunctionResource = {
    apiVersion: API_VERSION,
    kind: FUNCTION_KIND,
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace ?? FUNCTION_DEFAULTS.namespace,
      labels: { ...metadata.labels }
    },
    spec: {
      source: normalizeSource(spec.source),
      env: { ...spec.env },
      timeout: spec.timeout ?? FUNCTION_DEFAULTS.timeout,
      memory: spec.memory ?? FUNCTION_DEFAULTS.memory,
      concurrency: spec.concurrency ?? FUNCTION_DEFAULTS.concurrency,
      scale: normalizeScale(spec.scale ?? {}),
      http: normalizeHttp(spec.http ?? {})
    }
  }
  if (spec.envFrom !== undefined && spec.envFrom.length > 0) resource.spec.envFrom = spec.envFrom.map((source) => ({ secretRef: { name: source.secretRef.name } }))
  if (spec.traffic !== undefined) resource.spec.traffic = spec.traffic.map((t) => ({ ...t }))
  return resource
}

function normalizeSource (source: FunctionManifest['spec']['source']): FunctionSource {
  if (typeof source === 'string') return source
  return { inline: source.inline, loader: source.loader ?? FUNCTION_DEFAULTS.loader }
}

function normalizeScale (scale: NonNullable<FunctionManifest['spec']['scale']>): ScaleSpec {
  const d = FUNCTION_DEFAULTS.scale
  const normalized: ScaleSpec = {
    min: scale.min ?? d.min,
    max: scale.max ?? d.max,
    metric: scale.metric ?? d.metric,
    target: scale.target ?? d.target,
    utilization: scale.utilization ?? d.utilization,
    window: scale.window ?? d.window,
    scaleDownDelay: scale.scaleDownDelay ?? d.scaleDownDelay
  }
  if (scale.metrics !== undefined) {
    normalized.metrics = scale.metrics.map((m) => ({ ...m }))
    normalized.metric = scale.metrics[0].metric
    normalized.target = scale.metrics[0].target
  }
  if (scale.schedule !== undefined) normalized.schedule = scale.schedule.map((entry) => ({ ...entry, timezone: entry.timezone ?? 'UTC' }))
  return normalized
}

// `path` stays absent rather than undefined, so the resource round-trips through JSON unchanged.
function normalizeHttp (http: NonNullable<FunctionManifest['spec']['http']>): HttpSpec {
  const normalized: HttpSpec = { auth: normalizeAuth(http.auth) }
  if (http.path !== undefined) normalized.path = http.path
  if (http.host !== undefined) normalized.host = http.host
  return normalized
}

// ---------------------------------------------------------------------------
// small helpers

// Problems in the order found, one per field: the first found is the most specific
// (two errors of one field, such as pattern and maxLength of a name, say the same thing).
class ProblemList {
  private readonly byField = new Map<string, FieldProblem>()

  add (problems: FieldProblem[]): void {
    for (const p of problems) if (!this.byField.has(p.field)) this.byField.set(p.field, p)
  }

  get size (): number {
    return this.byField.size
  }

  list (): FieldProblem[] {
    return [...this.byField.values()]
  }
}

function isRecord (value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function recordAt (parent: Doc | undefined, key: string): Doc | undefined {
  const value = parent?.[key]
  return isRecord(value) ? value : undefined
}
