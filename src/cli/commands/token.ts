import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { age, formatTable, outputFormat, printData } from '../output.js'
import { UsageError } from '../../errors/index.js'

interface TokenItem { id: string, namespace: string, description: string | null, createdAt: string, current: boolean }

export const command: Command = {
  summary: 'Create, list and revoke API tokens; a namespace token may act on its namespace only.',
  usage: `Usage: roost token create -n NS [--description TEXT]
       roost token list [-n NS] [-o json|yaml]
       roost token revoke ID...

create prints the token once; the platform keeps only its hash. Only the admin
token creates tokens. Use one with ROOST_TOKEN=<token> roost ..., or as
Authorization: Bearer <token>. list shows every token to the admin, and the
tokens of its own namespace to a namespace token (never their secret); a star
marks the token in use. revoke takes the IDs list shows; the admin token
cannot revoke itself.

Flags:
  -n, --namespace     create: the namespace of the token; list: only this namespace's
      --description   create: what the token is for
  -o, --output        list: json or yaml`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('token', argv, {
      namespace: { type: 'string', short: 'n' },
      description: { type: 'string' },
      output: { type: 'string', short: 'o' }
    })
    const [sub, ...args] = positionals
    if (sub === 'create') {
      if (values.namespace === undefined) throw new UsageError('token create needs -n NAMESPACE', { hint: 'e.g. `roost token create -n team-a`' })
      const created = await connect().post<{ token: string }>(`/apis/roost.dev/v1/namespaces/${values.namespace}/tokens`, { description: values.description })
      process.stdout.write(`${created.token}\n`)
      return 0
    }
    if (sub === 'list' || sub === 'ls') {
      const format = outputFormat(values.output)
      const path = values.namespace === undefined ? '/apis/roost.dev/v1/tokens' : `/apis/roost.dev/v1/namespaces/${values.namespace}/tokens`
      const { items } = await connect().get<{ items: TokenItem[] }>(path)
      if (format !== 'table') return printData(format, items), 0
      process.stdout.write(items.length === 0
        ? 'No tokens found.\n'
        : formatTable(['CURRENT', 'ID', 'NAMESPACE', 'DESCRIPTION', 'AGE'], items.map((t) => [t.current ? '*' : '', t.id, t.namespace === '*' ? '* (admin)' : t.namespace, t.description ?? '', age(t.createdAt)])))
      return 0
    }
    if (sub === 'revoke' || sub === 'delete') {
      if (args.length === 0) throw new UsageError('token revoke needs the token\'s ID', { hint: '`roost token list` shows the IDs' })
      const client = connect()
      for (const id of args) {
        await client.delete(`/apis/roost.dev/v1/tokens/${encodeURIComponent(id)}`)
        process.stdout.write(`token/${id} revoked\n`)
      }
      return 0
    }
    throw new UsageError(`token: "${sub ?? ''}" is not create, list or revoke`, { hint: 'e.g. `roost token create -n team-a`, `roost token list`, `roost token revoke tok_…`' })
  }
}
