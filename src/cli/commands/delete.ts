import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { inNamespace, readManifests } from '../manifest-files.js'
import { UsageError } from '../../errors/index.js'

const FUNCTION_KINDS = new Set(['function', 'functions', 'fn'])
const NAMESPACE_KINDS = new Set(['namespace', 'namespaces', 'ns'])

export const command: Command = {
  summary: 'Delete functions with their versions, logs and instances, or a namespace.',
  usage: `Usage: roost delete function NAME... [-n NS]
       roost delete -f FILE|DIR|- [-n NS]
       roost delete namespace NAME... [--force]

A namespace that holds functions is not deleted unless --force, which deletes
its functions with it. Deleting a namespace revokes its tokens. The default
namespace cannot be deleted. Needs the admin token.

Flags:
  -n, --namespace   namespace (default: default)
  -f, --filename    delete the functions a manifest declares
      --force       delete namespace: also delete the functions it holds`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('delete', argv, {
      namespace: { type: 'string', short: 'n' },
      filename: { type: 'string', short: 'f', multiple: true },
      force: { type: 'boolean' }
    })
    const [kind, ...names] = positionals
    if (kind !== undefined && NAMESPACE_KINDS.has(kind)) return await deleteNamespaces(names, values.force === true)
    const targets: Array<{ namespace: string, name: string }> = []
    for (const file of values.filename ?? []) {
      for (const manifest of inNamespace(readManifests(file), values.namespace)) targets.push({ namespace: manifest.resource.metadata.namespace, name: manifest.resource.metadata.name })
    }
    if (kind !== undefined) {
      if (!FUNCTION_KINDS.has(kind)) throw new UsageError(`delete what? "${kind}" is not a kind roost deletes`, { hint: 'e.g. `roost delete function hello` or `roost delete namespace team-a`' })
      if (names.length === 0) throw new UsageError('delete function needs a name', { hint: 'e.g. `roost delete function hello`' })
      for (const name of names) targets.push({ namespace: values.namespace ?? 'default', name })
    }
    if (targets.length === 0) throw new UsageError('delete needs a function name or -f FILE', { hint: 'e.g. `roost delete function hello`' })
    const client = connect()
    for (const { namespace, name } of targets) {
      await client.delete(`/apis/roost.dev/v1/namespaces/${namespace}/functions/${name}`)
      process.stdout.write(`function/${name} deleted\n`)
    }
    return 0
  }
}

async function deleteNamespaces (names: string[], force: boolean): Promise<number> {
  if (names.length === 0) throw new UsageError('delete namespace needs a name', { hint: 'e.g. `roost delete namespace team-a`' })
  const client = connect()
  for (const name of names) {
    const result = await client.delete<{ functions: string[], tokens: number }>(`/apis/roost.dev/v1/namespaces/${name}${force ? '?cascade=true' : ''}`)
    const also = [
      ...(result.functions.length > 0 ? [`${result.functions.length} function(s): ${result.functions.join(', ')}`] : []),
      ...(result.tokens > 0 ? [`${result.tokens} token(s) revoked`] : [])
    ]
    process.stdout.write(`namespace/${name} deleted${also.length > 0 ? ` (with ${also.join('; ')})` : ''}\n`)
  }
  return 0
}
