import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { UsageError } from '../../errors/index.js'

export const command: Command = {
  summary: 'Create an API token that may act on one namespace only.',
  usage: `Usage: roost token create -n NS [--description TEXT]

Prints the token once; the platform keeps only its hash. Needs the admin token.
Use it with ROOST_TOKEN=<token> roost ..., or as Authorization: Bearer <token>.`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('token', argv, {
      namespace: { type: 'string', short: 'n' },
      description: { type: 'string' }
    })
    if (positionals[0] !== 'create') throw new UsageError('token: the only subcommand is create', { hint: 'e.g. `roost token create -n team-a`' })
    if (values.namespace === undefined) throw new UsageError('token create needs -n NAMESPACE', { hint: 'e.g. `roost token create -n team-a`' })
    const created = await connect().post<{ token: string }>(`/apis/roost.dev/v1/namespaces/${values.namespace}/tokens`, { description: values.description })
    process.stdout.write(`${created.token}\n`)
    return 0
  }
}
