// Validation of resources: kind check, schema (Ajv), then rules the schema cannot
// express. Every problem found is reported at once, each with the dotted path of its
// field and a message written for a person, not for a schema author.

import { Ajv2020 } from 'ajv/dist/2020.js'
import { ValidationError, type FieldProblem } from '../errors/index.js'
import { compileInline } from '../governance/index.js'
import {
  API_VERSION, DNS_LABEL_PATTERN, DURATION_PATTERN, ENV_NAME_PATTERN, FUNCTION_BOUNDS, FUNCTION_DEFAULTS,
  FUNCTION_KIND, FunctionManifestSchema, HTTP_PATH_PATTERN, LABEL_KEY_PATTERN, MEMORY_PATTERN, RESERVED_HTTP_PATHS, RESERVED_HTTP_PREFIXES, TIME_OF_DAY_PATTERN,
  type AsyncDestination, type AsyncSpec, type FunctionManifest, type FunctionResource, type FunctionSource, type HttpSpec, type ScaleSpec
} from './function-schema.js'
import { authProblems, normalizeAuth } from './auth-rules.js'
import { GOVERNANCE_EXPLAINERS } from './governance-schema.js'
import { parseDuration, parseMemory } from './quantities.js'
import { scheduleProblems } from './schedule-rules.js'
import { normalizeTriggers } from './trigger-normalize.js'
import { triggerProblems } from './trigger-rules.js'
import { checkKind, FUNCTION_SERVED } from './served-kinds.js'
import { appendKey, isRecord, ProblemList, recordAt, schemaProblems, show, type Doc, type Explainers } from './schema-problems.js'

// Compiled once: compiling costs milliseconds, validating microseconds.
const ajv = new Ajv2020({ allErrors: true, strict: true, verbose: true })
const checkFunctionManifest = ajv.compile(FunctionManifestSchema)

export function validateFunction (doc: unknown): FunctionResource {
  if (!isRecord(doc)) {
    throw new ValidationError([{ field: '', message: `expected a mapping with apiVersion, kind, metadata and spec, got ${show(doc)}` }])
  }
  checkKind(doc, [FUNCTION_SERVED])
  const problems = new ProblemList()
  const valid = checkFunctionManifest(doc)
  if (!valid) problems.add(schemaProblems(doc, checkFunctionManifest.errors ?? [], explainers))
  problems.add(ruleProblems(doc))
  // What the schema cannot say of spec.governance, read as the compiler reads it; on shapes the schema passed.
  if (valid) problems.add(governanceProblems(doc as FunctionManifest))
  if (problems.size > 0) throw new ValidationError(problems.list())
  return normalize(doc as FunctionManifest)
}

// ---------------------------------------------------------------------------
// Ajv errors → field problems (schema-problems.ts), with the Function's patterns in words

// Strings whose pattern is better explained in words than as a regular expression.
const explainers: Explainers = {
  strings: {
    [DNS_LABEL_PATTERN]: (got) => `${got} is not a valid name: use lower-case letters, digits and "-" (a DNS label, at most 63 characters)`,
    [DURATION_PATTERN]: (got) => `expected a duration such as "30s" or "500ms", got ${got}`,
    [MEMORY_PATTERN]: (got) => `expected a memory size such as "128Mi" or "1Gi", got ${got}`,
    [TIME_OF_DAY_PATTERN]: (got) => `expected a time of day as HH:MM (24-hour), such as "18:00", got ${got}`,
    [HTTP_PATH_PATTERN]: (got) => `${got} is not a valid path: use "/" and segments of letters, digits, ".", "_", "~" and "-", without a trailing "/" (at most 256 characters)`,
    ...GOVERNANCE_EXPLAINERS.strings
  },
  // The same for keys of a mapping (propertyNames).
  keys: {
    [ENV_NAME_PATTERN]: (got) => `${got} is not a valid environment variable name: use letters, digits and "_", not starting with a digit`,
    [LABEL_KEY_PATTERN]: (got) => `${got} is not a valid label key: use an optional DNS prefix and "/", then at most 63 letters, digits, "-", "_" and ".", starting and ending with a letter or digit`,
    ...GOVERNANCE_EXPLAINERS.keys
  }
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
    ...trafficRules(spec.traffic),
    ...triggerProblems(spec),
    ...asyncProblems(recordAt(spec, 'async'))
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
  if (RESERVED_HTTP_PATHS.some((p) => path === p) || RESERVED_HTTP_PREFIXES.some((p) => path.startsWith(p))) {
    return [{ field, message: `${show(path)} is reserved: the gateway serves /fn/<name>, /async/…, /_roost/…, /healthz and /metrics itself` }]
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
  problems.push(...duplicates(entries, 'lane', (v) => `lane ${show(v)} is used twice`))
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

function asyncProblems (spec: Doc | undefined): FieldProblem[] {
  const problems: FieldProblem[] = []
  for (const when of ['onSuccess', 'onFailure'] as const) {
    const destination = recordAt(spec, when)
    if (destination === undefined) continue
    const kinds = ['queue', 'function'].filter((kind) => destination[kind] !== undefined)
    if (kinds.length !== 1) problems.push({ field: `spec.async.${when}`, message: `a destination is exactly one of queue: NAME or function: NAME, got ${kinds.length === 0 ? 'neither' : 'both'}` })
  }
  return problems
}

function governanceProblems (m: FunctionManifest): FieldProblem[] {
  const problems: FieldProblem[] = []
  if (m.spec.governance !== undefined) compileInline(m.spec.governance, (field, message) => problems.push({ field, message }))
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
  if (spec.governance !== undefined) resource.spec.governance = structuredClone(spec.governance)
  if (spec.triggers !== undefined && spec.triggers.length > 0) resource.spec.triggers = normalizeTriggers(spec.triggers)
  const async = normalizeAsync(spec.async)
  if (async !== undefined) resource.spec.async = async
  return resource
}

function normalizeAsync (async: FunctionManifest['spec']['async']): AsyncSpec | undefined {
  if (async === undefined) return undefined
  const normalized: AsyncSpec = {}
  if (async.onSuccess !== undefined) normalized.onSuccess = normalizeDestination(async.onSuccess)
  if (async.onFailure !== undefined) normalized.onFailure = normalizeDestination(async.onFailure)
  return normalized.onSuccess === undefined && normalized.onFailure === undefined ? undefined : normalized
}

function normalizeDestination (destination: { queue?: string, function?: string }): AsyncDestination {
  return destination.queue !== undefined ? { queue: destination.queue } : { function: destination.function as string }
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

