import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { readManifests } from '../manifest-files.js'
import { UsageError } from '../../errors/index.js'

export const command: Command = {
  summary: 'Delete functions with their versions, logs and instances.',
  usage: `Usage: roost delete function NAME... [-n NS]
       roost delete -f FILE|DIR|-

Flags:
  -n, --namespace   namespace (default: default)
  -f, --filename    delete the functions a manifest declares`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('delete', argv, {
      namespace: { type: 'string', short: 'n' },
      filename: { type: 'string', short: 'f', multiple: true }
    })
    const targets: Array<{ namespace: string, name: string }> = []
    for (const file of values.filename ?? []) {
      for (const manifest of readManifests(file)) targets.push({ namespace: manifest.resource.metadata.namespace, name: manifest.resource.metadata.name })
    }
    if (positionals.length > 0) {
      const [kind, ...names] = positionals
      if (kind !== 'function' && kind !== 'functions' && kind !== 'fn') throw new UsageError(`delete what? "${kind}" is not a kind roost deletes`, { hint: 'e.g. `roost delete function hello`' })
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
