// Ajv's errors → problems a person can act on: the dotted path of the field
// and a message in words ("expected an integer ≥ 1, got 0", "unknown field;
// did you mean "timeout"?"). Shared by the validation of every kind.

import type { ErrorObject } from 'ajv/dist/2020.js'
import type { FieldProblem } from '../errors/index.js'

export type Doc = Record<string, unknown>

/** Patterns better explained in words than as a regular expression: of strings, and of keys (propertyNames). */
export interface Explainers {
  strings: Record<string, (got: string) => string>
  keys: Record<string, (got: string) => string>
}

// The subset of JSON Schema our messages read.
export interface SchemaNode {
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

/** Ajv's errors of a document as field problems, with patterns explained by `explain`. */
export function schemaProblems (doc: Doc, errors: ErrorObject[], explain: Explainers): FieldProblem[] {
  const problems = resolveUnions(errors)
    .filter((e) => !e.schemaPath.includes('/propertyNames/')) // reported once by their propertyNames error
    .map((e) => problemOf(doc, e, explain))
  return typosFirst(problems)
}

// `treshold: 10` is one mistake, not two: the unknown field that is a near miss of a
// required one is the problem to show, and the required field it was meant as is not missing.
function typosFirst (problems: FieldProblem[]): FieldProblem[] {
  const meant = new Set<string>()
  const typos: FieldProblem[] = []
  for (const p of problems) {
    const suggestion = /^unknown field; did you mean "([^"]+)"\?$/.exec(p.message)?.[1]
    if (suggestion === undefined) continue
    typos.push(p)
    meant.add(`${p.field.slice(0, p.field.length - lastKeyLength(p.field))}${suggestion}`)
  }
  if (typos.length === 0) return problems
  return [...typos, ...problems.filter((p) => !typos.includes(p) && !(p.message === 'required' && meant.has(p.field)))]
}

// 'spec.treshold' → 8 ('treshold'); 'spec["a b"]' → 7.
function lastKeyLength (field: string): number {
  const bracket = /\["(?:[^"\\]|\\.)*"\]$/.exec(field)
  if (bracket !== null) return bracket[0].length
  return field.length - field.lastIndexOf('.') - 1
}

function problemOf (doc: Doc, e: ErrorObject, explainers: Explainers): FieldProblem {
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
      const explain = explainers.keys[schema.propertyNames?.pattern ?? '']
      return {
        field: fieldPath(doc, e.instancePath, key),
        message: explain !== undefined ? explain(show(key)) : `${show(key)} is not a valid key`
      }
    }
    default: {
      const explain = explainers.strings[schema.pattern ?? '']
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
export function show (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (value === null) return 'null'
  if (value === undefined) return 'nothing'
  if (Array.isArray(value)) return value.length === 1 ? 'a list of 1 entry' : `a list of ${value.length} entries`
  if (typeof value === 'object') return 'a mapping'
  return String(value)
}

// JSON pointer "/spec/traffic/1/percent" → "spec.traffic[1].percent". The document decides
// whether a segment is an index: a label key may well be "1".
export function fieldPath (doc: Doc, pointer: string, lastKey?: string): string {
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

export function appendKey (path: string, key: string): string {
  if (!/^[A-Za-z_$][\w$-]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`
  return path === '' ? key : `${path}.${key}`
}

// The known name a typo was probably meant as: same letters in another case, or at most
// two edits away.
export function closest (word: string, candidates: string[]): string | undefined {
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


// Problems in the order found, one per field: the first found is the most specific
// (two errors of one field, such as pattern and maxLength of a name, say the same thing).
export class ProblemList {
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

export function isRecord (value: unknown): value is Doc {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

export function recordAt (parent: Doc | undefined, key: string): Doc | undefined {
  const value = parent?.[key]
  return isRecord(value) ? value : undefined
}
