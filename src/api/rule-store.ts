// The rule resources and the functions as the compiler reads them, from the
// store: each rule kind is stored as its own kind, namespaced like functions.

import { RULE_KINDS, type GovernedFunction, type RuleResource } from '../governance/index.js'
import type { Store, StoredResource } from '../store/index.js'
import type { FunctionSpec } from './function-schema.js'

/** Every rule of every kind (of one namespace), by kind then name. */
export function listRules (store: Store, namespace?: string): Array<StoredResource<RuleResource['spec']>> {
  return RULE_KINDS.flatMap((kind) => store.listResources<RuleResource['spec']>(kind, namespace))
}

export function ruleOf (stored: StoredResource<unknown>): RuleResource {
  return { kind: stored.kind, namespace: stored.namespace, name: stored.name, labels: stored.labels, spec: stored.spec } as RuleResource
}

export function governedFunctionOf (fn: StoredResource<FunctionSpec>): GovernedFunction {
  const governed: GovernedFunction = { namespace: fn.namespace, name: fn.name, labels: fn.labels }
  if (fn.spec.governance !== undefined) governed.governance = fn.spec.governance
  return governed
}
