// Every rule that applies to a function, from both sources, compiled into the
// one FunctionPolicy the gateway reads. Pure: the control plane calls it with
// what the store holds whenever something changes, and the API with one
// namespace's objects to show a rule's status or a function's rules.
//
// How rules meet functions:
// - a FaultToleranceRule or TrafficLabelRule applies to the functions of its
//   namespace whose labels include its selector (spec.selector, else
//   metadata.labels.app);
// - a strategy or fallback is named by a rule and looked up in the rule's
//   namespace; a name without `kind` may be any strategy kind, as long as only
//   one kind has it. A name that resolves to nothing is left out and reported
//   on the rule and on the functions it selects, never silently dropped;
// - each target of a FaultToleranceRule is a rule of its own (an id suffixed
//   `#<target>` when there are several), because OpenSergo's targets are
//   Sentinel resources, each counted apart: a strategy named by two rules or
//   two targets is two limiters;
// - the rule's fallback answers for the causes its strategies raise; a
//   Function's spec.governance.fallbacks answer every other cause, on every
//   rule, and on requests no rule matches through a last rule with no routes
//   and no strategies (id `spec.governance.fallbacks`);
// - order: the Function's own rules, then FaultToleranceRules by name; lanes
//   the same way (the gateway takes the first lane that matches).

import type { Report } from './durations.js'
import { compileInline, type InlineGovernance } from './inline.js'
import { normalizeRule, type NormalizedRule } from './opensergo.js'
import type { CallerAuth, Fallback, FunctionPolicy, GovernanceRule, LaneMatch, RejectCause, RuleProblem, Strategy } from './policy.js'
import { formatRoute } from './route-match.js'
import {
  FALLBACK_KIND, functionKey, ruleKey, STRATEGY_KINDS,
  type GovernedFunction, type RuleKind, type RuleRef, type RuleResource, type StrategyKind
} from './rule-kinds.js'

/** A resource that contributed to a function's policy. */
export interface PolicySource {
  kind: RuleKind | 'Function'
  name: string
  /** For the Function itself: where its rules are written. */
  field?: string
}

export interface CompiledPolicy {
  policy: FunctionPolicy
  /** Problems of the function's own rules and of every rule that selects it. */
  problems: RuleProblem[]
  sources: PolicySource[]
}

/** What the API shows under a rule's status. */
export interface RuleStatus {
  problems: RuleProblem[]
  /** The functions it applies to; for a strategy or fallback, through the rules that name it. */
  functions: string[]
}

export interface GovernanceCompilation {
  /** By functionKey (`namespace/name`): an entry for every function given. */
  functions: Map<string, CompiledPolicy>
  /** By ruleKey (`Kind/namespace/name`): an entry for every rule given. */
  rules: Map<string, RuleStatus>
}

export interface CompileOptions {
  /** The caller identity a function requires; default: none (anyone may call). */
  authOf?: (fn: GovernedFunction) => CallerAuth
}

const NO_AUTH: CallerAuth = { mode: 'none' }
const WIDE_FALLBACKS_ID = 'spec.governance.fallbacks'

/** Each function's policy, the problems that concern it, and where its rules came from. */
export function compilePolicies (functions: readonly GovernedFunction[], rules: readonly RuleResource[], options: CompileOptions = {}): Map<string, CompiledPolicy> {
  return compileGovernance(functions, rules, options).functions
}

/** compilePolicies with each rule's status besides. */
export function compileGovernance (functions: readonly GovernedFunction[], rules: readonly RuleResource[], options: CompileOptions = {}): GovernanceCompilation {
  const statuses = new Map<string, RuleStatus>()
  for (const rule of rules) statuses.set(ruleKey(rule), { problems: [], functions: [] })
  const namespaces = new Map<string, NamespaceRules>()
  for (const [namespace, list] of groupBy(rules, (r) => r.namespace)) namespaces.set(namespace, resolveNamespace(namespace, list, statuses))
  const names = new Map<string, Set<string>>()
  for (const fn of functions) names.set(fn.namespace, (names.get(fn.namespace) ?? new Set()).add(fn.name))

  const compiled = new Map<string, CompiledPolicy>()
  for (const fn of functions) {
    compiled.set(functionKey(fn), compileFunction(fn, namespaces.get(fn.namespace), names.get(fn.namespace) ?? new Set(), statuses, options))
  }
  for (const status of statuses.values()) status.functions = [...new Set(status.functions)].sort()
  return { functions: compiled, rules: statuses }
}

function compileFunction (
  fn: GovernedFunction,
  namespace: NamespaceRules | undefined,
  siblings: Set<string>,
  statuses: Map<string, RuleStatus>,
  options: CompileOptions
): CompiledPolicy {
  const problems: RuleProblem[] = []
  const sources: PolicySource[] = []
  const inline: InlineGovernance = compileInline(fn.governance, (field, message) => problems.push({ rule: inlineRuleOf(field), message: `${field}: ${message}` }))
  if (fn.governance !== undefined) sources.push({ kind: 'Function', name: fn.name, field: 'spec.governance' })
  for (const call of inline.calls) {
    if (call.name === fn.name) problems.push({ rule: call.rule, message: `${call.field}: ${fn.name} is this function: a fallback to itself would meet the same limit again` })
    else if (!siblings.has(call.name)) problems.push({ rule: call.rule, message: `${call.field}: function ${call.name} does not exist in namespace ${fn.namespace}; until it does, the gateway answers with its own response` })
  }

  const selected: GovernanceRule[] = []
  const lanes: LaneMatch[] = []
  for (const rule of namespace?.rules ?? []) {
    if (!selects(rule.selector, fn.labels)) continue
    const status = statuses.get(rule.key) as RuleStatus
    status.functions.push(fn.name)
    problems.push(...status.problems)
    sources.push({ kind: rule.kind, name: rule.name })
    for (const used of rule.uses) {
      sources.push({ kind: used.kind, name: used.name })
      statuses.get(ruleKey({ kind: used.kind, namespace: fn.namespace, name: used.name }))?.functions.push(fn.name)
    }
    if (rule.kind === 'FaultToleranceRule') selected.push(...rule.compiled)
    else lanes.push(...rule.lanes)
  }

  const wide = inline.fallbacks
  const withWide = (rule: GovernanceRule): GovernanceRule => ({ ...rule, fallbacks: { ...wide, ...rule.fallbacks } })
  const policyRules = [...inline.rules, ...selected].map(withWide)
  if (Object.keys(wide).length > 0) policyRules.push({ id: WIDE_FALLBACKS_ID, routes: [], strategies: [], fallbacks: { ...wide } })
  return {
    policy: { rules: policyRules, retry: inline.retry, lanes: [...inline.lanes, ...lanes], auth: options.authOf?.(fn) ?? NO_AUTH },
    problems,
    sources: dedupeSources(sources)
  }
}

// ---------------------------------------------------------------------------
// one namespace's rule resources, resolved once for all its functions

type SelectingRule =
  | { kind: 'FaultToleranceRule', key: string, name: string, selector: Record<string, string> | undefined, uses: Used[], compiled: GovernanceRule[] }
  | { kind: 'TrafficLabelRule', key: string, name: string, selector: Record<string, string> | undefined, uses: Used[], lanes: LaneMatch[] }

interface Used { kind: RuleKind, name: string }

interface NamespaceRules {
  /** FaultToleranceRules then TrafficLabelRules, each by name. */
  rules: SelectingRule[]
}

interface Resolvable<T> {
  kind: RuleKind
  name: string
  value: T | undefined
  /** Why value is undefined: the resource's own first problem. */
  broken: string | undefined
}

function resolveNamespace (namespace: string, rules: RuleResource[], statuses: Map<string, RuleStatus>): NamespaceRules {
  const strategies = new Map<string, Array<Resolvable<Strategy>>>()
  const fallbacks = new Map<string, Resolvable<Fallback>>()
  const selecting: Array<{ resource: RuleResource, normalized: NormalizedRule | undefined }> = []
  for (const rule of [...rules].sort((a, b) => a.name.localeCompare(b.name))) {
    const status = statuses.get(ruleKey(rule)) as RuleStatus
    const id = `${rule.kind}/${rule.name}`
    const normalized = normalizeRule(rule, (field, message) => status.problems.push({ rule: id, message: `${field}: ${message}` }))
    const broken = status.problems[0]?.message
    if (normalized !== undefined && 'strategy' in normalized) {
      const list = strategies.get(rule.name) ?? []
      list.push({ kind: rule.kind, name: rule.name, value: normalized.strategy, broken })
      strategies.set(rule.name, list)
    } else if (rule.kind === FALLBACK_KIND) {
      fallbacks.set(rule.name, { kind: rule.kind, name: rule.name, value: normalized?.kind === FALLBACK_KIND ? normalized.fallback : undefined, broken })
    } else if (rule.kind === 'FaultToleranceRule' || rule.kind === 'TrafficLabelRule') {
      selecting.push({ resource: rule, normalized })
    } else {
      // a strategy whose spec cannot be read: found by name, applied as nothing
      const list = strategies.get(rule.name) ?? []
      list.push({ kind: rule.kind, name: rule.name, value: undefined, broken })
      strategies.set(rule.name, list)
    }
  }
  const resolved: SelectingRule[] = []
  for (const { resource, normalized } of selecting) {
    const status = statuses.get(ruleKey(resource)) as RuleStatus
    const id = `${resource.kind}/${resource.name}`
    const report: Report = (field, message) => status.problems.push({ rule: id, message: `${field}: ${message}` })
    const key = ruleKey(resource)
    if (normalized?.kind === 'FaultToleranceRule') {
      const uses: Used[] = []
      const found: Strategy[] = []
      normalized.strategies.forEach((ref, i) => {
        const strategy = resolveStrategy(ref, strategies, namespace, `spec.strategies[${i}]`, report)
        if (strategy === undefined) return
        uses.push({ kind: strategy.kind, name: strategy.name })
        found.push(strategy.value as Strategy)
      })
      let fallback: Fallback | undefined
      if (normalized.fallback !== undefined) {
        const field = (resource.spec as { action?: unknown }).action !== undefined ? 'spec.action' : 'spec.fallbackAction'
        const target = resolveFallback(normalized.fallback, fallbacks, namespace, field, report)
        if (target !== undefined) {
          uses.push({ kind: FALLBACK_KIND, name: target.name })
          fallback = target.value
        }
      }
      const causes = new Set(found.map(causeOf))
      const ruleFallbacks: Partial<Record<RejectCause, Fallback>> = {}
      if (fallback !== undefined) for (const cause of causes) ruleFallbacks[cause] = fallback
      const compiled = normalized.routes.map((route) => ({
        id: normalized.routes.length === 1 ? id : `${id}#${formatRoute(route)}`,
        routes: [route],
        strategies: found,
        fallbacks: ruleFallbacks
      }))
      resolved.push({ kind: 'FaultToleranceRule', key, name: resource.name, selector: normalized.selector, uses, compiled })
    } else if (normalized?.kind === 'TrafficLabelRule') {
      const lanes = normalized.matches.map((match, i) => ({
        lane: normalized.lane,
        id: normalized.matches.length === 1 ? id : `${id}[${i}]`,
        ...match
      }))
      resolved.push({ kind: 'TrafficLabelRule', key, name: resource.name, selector: normalized.selector, uses: [], lanes })
    }
    // a rule whose own spec cannot be read selects nothing; its problems are on its status
  }
  resolved.sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || a.name.localeCompare(b.name))
  return { rules: resolved }
}

function resolveStrategy (ref: RuleRef, strategies: Map<string, Array<Resolvable<Strategy>>>, namespace: string, field: string, report: Report): Resolvable<Strategy> | undefined {
  const candidates = strategies.get(ref.name) ?? []
  let found: Resolvable<Strategy> | undefined
  if (ref.kind !== undefined) {
    found = candidates.find((c) => c.kind === ref.kind)
    if (found === undefined) {
      const other = candidates[0] === undefined ? '' : ` (there is a ${candidates[0].kind} of that name: fix the kind)`
      report(field, `${ref.kind} ${ref.name} does not exist in namespace ${namespace}${other}`)
      return undefined
    }
  } else if (candidates.length === 0) {
    report(field, `no strategy named ${ref.name} exists in namespace ${namespace} (looked for ${STRATEGY_KINDS.join(', ')})`)
    return undefined
  } else if (candidates.length > 1) {
    report(field, `${ref.name} names a ${candidates.map((c) => c.kind).join(' and a ')} in namespace ${namespace}: add kind to say which`)
    return undefined
  } else {
    found = candidates[0] as Resolvable<Strategy>
  }
  if (found.value === undefined) {
    report(field, `${found.kind} ${found.name} cannot be applied: ${found.broken ?? 'its spec cannot be read'}`)
    return undefined
  }
  return found
}

function resolveFallback (ref: RuleRef, fallbacks: Map<string, Resolvable<Fallback>>, namespace: string, field: string, report: Report): Resolvable<Fallback> | undefined {
  const found = fallbacks.get(ref.name)
  if (found === undefined) {
    report(field, `${FALLBACK_KIND} ${ref.name} does not exist in namespace ${namespace}; until it does, refused requests get the gateway's own answer`)
    return undefined
  }
  if (found.value === undefined) {
    report(field, `${FALLBACK_KIND} ${ref.name} cannot be applied: ${found.broken ?? 'its spec cannot be read'}`)
    return undefined
  }
  return found
}

function causeOf (strategy: Strategy): RejectCause {
  switch (strategy.kind) {
    case 'rate-limit':
    case 'throttle':
      return 'rate-limited'
    case 'concurrency': return 'concurrency-limited'
    case 'breaker': return 'breaker-open'
  }
}

/** A selector matches when the function carries every one of its labels; no selector matches nothing. */
function selects (selector: Record<string, string> | undefined, labels: Record<string, string>): boolean {
  if (selector === undefined) return false
  return Object.entries(selector).every(([key, value]) => labels[key] === value)
}

function kindRank (kind: StrategyKind | RuleKind): number {
  return kind === 'FaultToleranceRule' ? 0 : 1
}

/** `spec.governance.rules[2].rateLimit.window` → `spec.governance.rules[2]`. */
function inlineRuleOf (field: string): string {
  return /^spec\.governance\.rules\[\d+\]/.exec(field)?.[0] ?? 'spec.governance'
}

function dedupeSources (sources: PolicySource[]): PolicySource[] {
  const seen = new Set<string>()
  return sources.filter((s) => {
    const key = `${s.kind}/${s.name}`
    if (seen.has(key)) return false
    seen.add(key)
    return true
  })
}

function groupBy<T> (items: readonly T[], keyOf: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>()
  for (const item of items) {
    const key = keyOf(item)
    const list = groups.get(key)
    if (list === undefined) groups.set(key, [item])
    else list.push(item)
  }
  return groups
}
