// A rule as the API shows it: the stored object, and a status derived on read
// (as a function's is) from the rules and functions of its namespace: which
// functions it applies to, and every problem, a name that resolves to nothing
// first among them.

import { compileGovernance, ruleKey, type RuleKind, type RuleProblem, type RuleStatus } from '../governance/index.js'
import type { Store, StoredResource } from '../store/index.js'
import type { FunctionSpec } from './function-schema.js'
import type { ObjectMetadata } from './function-view.js'
import { governedFunctionOf, listRules, ruleOf } from './rule-store.js'
import { RULE_RESOURCES } from './served-kinds.js'

export interface RuleCondition {
  type: 'Resolved' | 'Applied'
  status: 'True' | 'False'
  reason: string
  message: string
}

export interface RuleView {
  apiVersion: string
  kind: RuleKind
  metadata: ObjectMetadata
  spec: unknown
  status: {
    /** The functions it applies to; for a strategy or fallback, through the rules that name it. */
    functions: string[]
    problems: RuleProblem[]
    conditions: RuleCondition[]
  }
}

/** The rules of a namespace (or of every namespace), each with its status. */
export function viewRules (store: Store, namespace?: string, kind?: RuleKind): RuleView[] {
  const rules = listRules(store, namespace)
  const functions = store.listResources<FunctionSpec>('Function', namespace).map(governedFunctionOf)
  const { rules: statuses } = compileGovernance(functions, rules.map(ruleOf))
  return rules.filter((r) => kind === undefined || r.kind === kind).map((r) => viewRule(r, statuses.get(ruleKey(r)) ?? { problems: [], functions: [] }))
}

export function viewRule (stored: StoredResource<unknown>, status: RuleStatus): RuleView {
  const kind = stored.kind as RuleKind
  return {
    apiVersion: RULE_RESOURCES[kind].apiVersion,
    kind,
    metadata: {
      name: stored.name,
      namespace: stored.namespace,
      labels: stored.labels,
      uid: stored.uid,
      resourceVersion: String(stored.resourceVersion),
      generation: stored.generation,
      creationTimestamp: stored.createdAt,
      updateTimestamp: stored.updatedAt
    },
    spec: stored.spec,
    status: { functions: status.functions, problems: status.problems, conditions: conditionsOf(kind, stored.namespace, status) }
  }
}

function conditionsOf (kind: RuleKind, namespace: string, status: RuleStatus): RuleCondition[] {
  const first = status.problems[0]
  const resolved: RuleCondition = first === undefined
    ? { type: 'Resolved', status: 'True', reason: 'Resolved', message: 'it reads as written and every name it uses exists' }
    : { type: 'Resolved', status: 'False', reason: 'Unresolved', message: status.problems.length === 1 ? first.message : `${first.message} (and ${status.problems.length - 1} more)` }
  const selecting = kind === 'FaultToleranceRule' || kind === 'TrafficLabelRule'
  const applied: RuleCondition = status.functions.length > 0
    ? { type: 'Applied', status: 'True', reason: 'AppliesToFunctions', message: `applies to ${status.functions.join(', ')}` }
    : {
        type: 'Applied',
        status: 'False',
        reason: selecting ? 'SelectsNoFunction' : 'UsedByNoRule',
        message: selecting
          ? `no function in namespace ${namespace} has the labels it selects`
          : `no rule that applies to a function of namespace ${namespace} names it`
      }
  return [resolved, applied]
}
