// The kinds the API serves: their apiVersion, their resource names in URLs
// (as Kubernetes names them: lower-case plural) and the short names the CLI
// takes. A document's kind is checked against them before any schema runs: a
// document of another kind must not be judged by a schema that is not its
// own, whose errors would all be noise.

import {
  FAULT_TOLERANCE_API_VERSION, RULE_KINDS, RULE_NAMES, TRAFFIC_API_VERSION, isRuleKind, rulePath, type RuleKind
} from '../governance/index.js'
import { UnknownKindError } from '../errors/index.js'
import { API_VERSION, FUNCTION_KIND } from './function-schema.js'
import { closest, show, type Doc } from './schema-problems.js'

export interface ServedKind {
  apiVersion: string
  kind: string
  /** In URLs and `roost get`: ratelimitstrategies. */
  plural: string
  singular: string
  shortNames: string[]
}

export const FUNCTION_SERVED: ServedKind = { apiVersion: API_VERSION, kind: FUNCTION_KIND, plural: 'functions', singular: 'function', shortNames: ['fn'] }

export const RULE_RESOURCES: Record<RuleKind, ServedKind> = RULE_NAMES

export const SERVED_KINDS: readonly ServedKind[] = [FUNCTION_SERVED, ...RULE_KINDS.map((kind) => RULE_RESOURCES[kind])]

/**
 * Throws UnknownKindError unless the document is of one of `accepted`.
 * Missing values are left to the schema, which reports them as required.
 */
export function checkKind (doc: Doc, accepted: readonly ServedKind[]): void {
  const { apiVersion, kind } = doc
  const fits = (k: ServedKind): boolean => (typeof apiVersion !== 'string' || apiVersion === k.apiVersion) && (typeof kind !== 'string' || kind === k.kind)
  if (accepted.some(fits)) return
  const found = `kind ${showOptional(kind)} in apiVersion ${showOptional(apiVersion)}`
  const served = SERVED_KINDS.find(fits)
  if (served !== undefined) {
    // a kind the API serves, sent where another is expected (a rule to the functions route)
    throw new UnknownKindError(`${found} is not ${accepted.map((k) => `a ${k.kind}`).join(' or ')}`, {
      field: 'kind',
      hint: `\`roost apply -f\` sends each document where it belongs; its own route is ${served.kind === FUNCTION_KIND ? '/apis/roost.dev/v1/namespaces/NS/functions/NAME' : rulePath(served.kind as RuleKind, 'NS', 'NAME')}`
    })
  }
  const sameKind = SERVED_KINDS.find((k) => k.kind === kind)
  throw new UnknownKindError(`${found} is not served; supported: ${supportedText()}`, {
    field: sameKind !== undefined ? 'apiVersion' : 'kind',
    hint: kindHint(kind, sameKind)
  })
}

function kindHint (kind: unknown, sameKind: ServedKind | undefined): string {
  if (sameKind !== undefined) return `write apiVersion: ${sameKind.apiVersion} for kind ${sameKind.kind}`
  const names = SERVED_KINDS.map((k) => k.kind)
  if (typeof kind === 'string') {
    const near = closest(kind, names)
    if (near !== undefined && near.toLowerCase() === kind.toLowerCase()) return `kinds are case-sensitive: write kind: ${near}`
    if (near !== undefined) return `did you mean kind: ${near}? (apiVersion ${(SERVED_KINDS.find((k) => k.kind === near) as ServedKind).apiVersion})`
  }
  return `write apiVersion: ${API_VERSION} and kind: ${FUNCTION_KIND}, or one of the OpenSergo kinds listed`
}

/** "Function in roost.dev/v1; RateLimitStrategy, … in fault-tolerance.opensergo.io/v1alpha1; TrafficLabelRule in traffic.opensergo.io/v1alpha1" */
function supportedText (): string {
  const groups = new Map<string, string[]>()
  for (const k of SERVED_KINDS) groups.set(k.apiVersion, [...(groups.get(k.apiVersion) ?? []), k.kind])
  return [...groups].map(([apiVersion, kinds]) => `${kinds.join(', ')} in ${apiVersion}`).join('; ')
}

function showOptional (value: unknown): string {
  return value === undefined ? '(none)' : show(value)
}

/** Whether a document says it is a rule: by its kind, or failing that by an OpenSergo apiVersion. */
export function looksLikeRule (doc: Doc): boolean {
  if (isRuleKind(doc.kind)) return true
  return doc.kind === undefined && (doc.apiVersion === FAULT_TOLERANCE_API_VERSION || doc.apiVersion === TRAFFIC_API_VERSION)
}
