import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { UsageError } from '../../errors/index.js'

export const command: Command = {
  summary: 'Move all traffic to another version at once: back, or forward with --to.',
  usage: `Usage: roost rollback NAME [--to vN] [-n NS]

Without --to, traffic moves to the version before the one serving now.
Applying the manifest again routes traffic to the newest version again.

Flags:
  -n, --namespace   namespace (default: default)
      --to          the version to serve, e.g. v3`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('rollback', argv, {
      namespace: { type: 'string', short: 'n' },
      to: { type: 'string' }
    })
    const name = positionals[0]
    if (name === undefined) throw new UsageError('rollback needs the function\'s name', { hint: 'e.g. `roost rollback hello --to v1`' })
    const namespace = values.namespace ?? 'default'
    const result = await connect().post<{ from: number, to: number }>(
      `/apis/roost.dev/v1/namespaces/${namespace}/functions/${name}/rollback`,
      values.to === undefined ? {} : { to: values.to }
    )
    process.stdout.write(`function/${name} ${movedText(result.from, result.to)}\n`)
    return 0
  }
}

/** Back to an older version, forward to a newer one, or already there. */
export function movedText (from: number, to: number): string {
  if (to < from) return `rolled back from v${from} to v${to}`
  if (to > from) return `rolled forward from v${from} to v${to}`
  return `already serves v${to}: all traffic moved to it`
}
