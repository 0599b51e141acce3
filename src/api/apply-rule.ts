// Create or update a rule from a manifest, in one transaction. What a rule
// names need not exist yet: the answer's status says what does not resolve.

import { ValidationError } from '../errors/index.js'
import { compileGovernance, ruleKey, type RuleKind } from '../governance/index.js'
import type { Store } from '../store/index.js'
import type { FunctionSpec } from './function-schema.js'
import { governedFunctionOf, listRules, ruleOf } from './rule-store.js'
import { viewRule, type RuleView } from './rule-view.js'
import { validateRule } from './validate-rule.js'

export interface ApplyRuleResult {
  result: 'created' | 'configured' | 'unchanged'
  rule: RuleView
}

const ROLLBACK = Symbol('dry run')

export function applyRule (store: Store, path: { kind: RuleKind, namespace: string, name: string }, body: { manifest?: unknown }, options: { dryRun?: boolean } = {}): ApplyRuleResult {
  if (body.manifest === undefined) throw new ValidationError([{ field: 'manifest', message: `required: the body is { "manifest": <${path.kind}> }` }])
  const manifest = validateRule(body.manifest)
  const problems = []
  if (manifest.kind !== path.kind) problems.push({ field: 'kind', message: `"${manifest.kind}" does not match the kind in the URL (${path.kind})` })
  if (manifest.metadata.name !== path.name) problems.push({ field: 'metadata.name', message: `"${manifest.metadata.name}" does not match the name in the URL ("${path.name}")` })
  if (manifest.metadata.namespace !== path.namespace) problems.push({ field: 'metadata.namespace', message: `"${manifest.metadata.namespace}" does not match the namespace in the URL ("${path.namespace}")` })
  if (problems.length > 0) throw new ValidationError(problems)
  const write = (): ApplyRuleResult => {
    const put = store.putResource(path.kind, path.namespace, path.name, { spec: manifest.spec, labels: manifest.metadata.labels })
    const rules = listRules(store, path.namespace).map(ruleOf)
    const functions = store.listResources<FunctionSpec>('Function', path.namespace).map(governedFunctionOf)
    const status = compileGovernance(functions, rules).rules.get(ruleKey(put.resource)) ?? { problems: [], functions: [] }
    return { result: put.created ? 'created' : put.changed ? 'configured' : 'unchanged', rule: viewRule(put.resource, status) }
  }
  if (options.dryRun !== true) return store.transaction(write)
  let answer: ApplyRuleResult | undefined
  try {
    store.transaction(() => {
      answer = write()
      throw ROLLBACK
    })
  } catch (err) {
    if (err !== ROLLBACK) throw err
  }
  return answer as ApplyRuleResult
}
