// What the rule kinds are called where people and URLs name them: as
// Kubernetes names resources, a lower-case plural (ratelimitstrategies), its
// singular, and short names for the CLI. The API serves each kind at
// /apis/<apiVersion>/namespaces/<ns>/<plural>/<name>.

import { apiVersionOf, RULE_KINDS, type RuleKind } from './rule-kinds.js'

export interface RuleNames {
  apiVersion: string
  kind: RuleKind
  plural: string
  singular: string
  shortNames: string[]
}

const SHORT_NAMES: Record<RuleKind, string[]> = {
  RateLimitStrategy: ['rls'],
  ThrottlingStrategy: ['throttling'],
  ConcurrencyLimitStrategy: ['cls'],
  CircuitBreakerStrategy: ['cbs'],
  HttpRequestFallbackAction: ['fallbacks', 'hrfa'],
  FaultToleranceRule: ['ftr'],
  TrafficLabelRule: ['tlr']
}

export const RULE_NAMES: Record<RuleKind, RuleNames> = Object.fromEntries(RULE_KINDS.map((kind) => {
  const singular = kind.toLowerCase()
  const plural = singular.endsWith('y') ? `${singular.slice(0, -1)}ies` : `${singular}s`
  return [kind, { apiVersion: apiVersionOf(kind), kind, plural, singular, shortNames: SHORT_NAMES[kind] }]
})) as Record<RuleKind, RuleNames>

/** `/apis/fault-tolerance.opensergo.io/v1alpha1/namespaces/prod/ratelimitstrategies/rate-limit-foo`; without a name, the list; without a namespace, every namespace's. */
export function rulePath (kind: RuleKind, namespace?: string, name?: string): string {
  const names = RULE_NAMES[kind]
  const scope = namespace === undefined ? '' : `/namespaces/${namespace}`
  return `/apis/${names.apiVersion}${scope}/${names.plural}${name === undefined ? '' : `/${name}`}`
}

/** The rule kind a word names: a plural, a singular, a short name or the kind itself, in any case. */
export function ruleKindNamed (word: string): RuleKind | undefined {
  const lower = word.toLowerCase()
  return RULE_KINDS.find((kind) => {
    const names = RULE_NAMES[kind]
    return lower === names.plural || lower === names.singular || names.shortNames.includes(lower)
  })
}
