import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { outputFormat, printData } from '../output.js'
import { UsageError } from '../../errors/index.js'

const NAMESPACE_KINDS = new Set(['namespace', 'namespaces', 'ns'])

export const command: Command = {
  summary: 'Create a namespace (functions are created with `roost apply`).',
  usage: `Usage: roost create namespace NAME [--label K=V]... [-o json|yaml]

A namespace also comes into being when a function is first applied into it.
Creating one first lets you make its tokens (\`roost token create -n NAME\`)
before anything is deployed there. Needs the admin token.

Flags:
  -l, --label    a label K=V of the namespace (repeatable)
  -o, --output   json or yaml: print the namespace`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('create', argv, {
      label: { type: 'string', short: 'l', multiple: true },
      output: { type: 'string', short: 'o' }
    })
    const [kind, name, ...rest] = positionals
    if (kind === undefined || !NAMESPACE_KINDS.has(kind)) {
      throw new UsageError(`create what? "${kind ?? ''}" is not a kind roost creates`, { hint: 'e.g. `roost create namespace team-a`; functions are created with `roost apply -f FILE`' })
    }
    if (name === undefined || rest.length > 0) throw new UsageError('create namespace needs one name', { hint: 'e.g. `roost create namespace team-a`' })
    const format = outputFormat(values.output)
    const labels = parseLabels(values.label ?? [])
    const created = await connect().post<unknown>('/apis/roost.dev/v1/namespaces', { metadata: { name, labels } })
    if (format !== 'table') printData(format, created)
    else process.stdout.write(`namespace/${name} created\n`)
    return 0
  }
}

function parseLabels (pairs: string[]): Record<string, string> {
  const labels: Record<string, string> = {}
  for (const pair of pairs) {
    const equals = pair.indexOf('=')
    if (equals <= 0) throw new UsageError(`--label "${pair}" is not K=V`, { hint: 'e.g. --label team=a' })
    labels[pair.slice(0, equals)] = pair.slice(equals + 1)
  }
  return labels
}
