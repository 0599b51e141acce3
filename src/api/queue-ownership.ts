// One consumer per queue: a function may not declare a queue another
// function of its namespace consumes, or the two would split its messages
// with neither seeing the whole (and the queue's policy would flip between them).
import { ConflictError } from '../errors/index.js'
import type { Store } from '../store/index.js'
import type { FunctionResource, FunctionSpec } from './function-schema.js'

export function checkQueuesAreFree (store: Store, resource: FunctionResource): void {
  const { namespace, name } = resource.metadata
  const triggers = resource.spec.triggers ?? []
  if (!triggers.some((t) => 'queue' in t)) return
  const owners = new Map<string, string>()
  for (const fn of store.listResources<FunctionSpec>('Function', namespace)) {
    if (fn.name === name) continue
    for (const t of fn.spec.triggers ?? []) if ('queue' in t) owners.set(t.queue.name, fn.name)
  }
  for (const [index, trigger] of triggers.entries()) {
    if (!('queue' in trigger)) continue
    const owner = owners.get(trigger.queue.name)
    if (owner === undefined) continue
    throw new ConflictError(`queue ${trigger.queue.name} in namespace ${namespace} is consumed by function ${owner} already`, {
      field: `spec.triggers[${index}].queue.name`,
      hint: `a queue has one consumer: remove the trigger from ${owner} first, or name another queue`
    })
  }
}
