import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { UsageError } from '../../errors/index.js'

export const command: Command = {
  summary: 'Move all traffic back to an earlier version, at once.',
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
    process.stdout.write(`function/${name} rolled back from v${result.from} to v${result.to}\n`)
    return 0
  }
}
