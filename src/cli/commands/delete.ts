import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { inNamespace, readManifests } from '../manifest-files.js'
import { UsageError } from '../../errors/index.js'
import { ruleKindNamed, rulePath, type RuleKind } from '../../governance/index.js'

const FUNCTION_KINDS = new Set(['function', 'functions', 'fn'])
const NAMESPACE_KINDS = new Set(['namespace', 'namespaces', 'ns'])

export const command: Command = {
  summary: 'Delete functions with their versions, logs and instances, governance rules, or a namespace.',
  usage: `Usage: roost delete function NAME... [-n NS]
       roost delete KIND NAME... [-n NS]        (a rule kind, as \`roost get\` names it: ratelimitstrategy, ftr, ...)
       roost delete -f FILE|DIR|- [-n NS]
       roost delete namespace NAME... [--force]

A rule that names a deleted strategy or fallback reports it missing. A
namespace that holds functions or rules is not deleted unless --force, which
deletes them with it. Deleting a namespace revokes its tokens. The default
namespace cannot be deleted. Deleting a namespace needs the admin token.

Flags:
  -n, --namespace   namespace (default: default)
  -f, --filename    delete the functions and rules a manifest declares
      --force       delete namespace: also delete the functions and rules it holds`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('delete', argv, {
      namespace: { type: 'string', short: 'n' },
      filename: { type: 'string', short: 'f', multiple: true },
      force: { type: 'boolean' }
    })
    const [kind, ...names] = positionals
    if (kind !== undefined && NAMESPACE_KINDS.has(kind)) return await deleteNamespaces(names, values.force === true)
    const targets: Target[] = []
    for (const file of values.filename ?? []) {
      for (const manifest of inNamespace(readManifests(file), values.namespace)) {
        const { namespace, name } = manifest.resource.metadata
        targets.push({ kind: manifest.type === 'rule' ? manifest.resource.kind : 'Function', namespace, name })
      }
    }
    if (kind !== undefined) {
      const ruleKind = ruleKindNamed(kind)
      if (!FUNCTION_KINDS.has(kind) && ruleKind === undefined) throw new UsageError(`delete what? "${kind}" is not a kind roost deletes`, { hint: 'e.g. `roost delete function hello`, `roost delete ratelimitstrategy rate-limit-foo` or `roost delete namespace team-a`' })
      if (names.length === 0) throw new UsageError(`delete ${kind} needs a name`, { hint: `e.g. \`roost delete ${kind} NAME\`` })
      for (const name of names) targets.push({ kind: ruleKind ?? 'Function', namespace: values.namespace ?? 'default', name })
    }
    if (targets.length === 0) throw new UsageError('delete needs a function name or -f FILE', { hint: 'e.g. `roost delete function hello`' })
    const client = connect()
    for (const { kind: what, namespace, name } of targets) {
      await client.delete(what === 'Function' ? `/apis/roost.dev/v1/namespaces/${namespace}/functions/${name}` : rulePath(what, namespace, name))
      process.stdout.write(`${what.toLowerCase()}/${name} deleted\n`)
    }
    return 0
  }
}

interface Target { kind: 'Function' | RuleKind, namespace: string, name: string }

async function deleteNamespaces (names: string[], force: boolean): Promise<number> {
  if (names.length === 0) throw new UsageError('delete namespace needs a name', { hint: 'e.g. `roost delete namespace team-a`' })
  const client = connect()
  for (const name of names) {
    const result = await client.delete<{ functions: string[], rules?: string[], tokens: number }>(`/apis/roost.dev/v1/namespaces/${name}${force ? '?cascade=true' : ''}`)
    const rules = result.rules ?? []
    const also = [
      ...(result.functions.length > 0 ? [`${result.functions.length} function(s): ${result.functions.join(', ')}`] : []),
      ...(rules.length > 0 ? [`${rules.length} rule(s): ${rules.join(', ')}`] : []),
      ...(result.tokens > 0 ? [`${result.tokens} token(s) revoked`] : [])
    ]
    process.stdout.write(`namespace/${name} deleted${also.length > 0 ? ` (with ${also.join('; ')})` : ''}\n`)
  }
  return 0
}
