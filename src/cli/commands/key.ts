import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { age, formatTable, outputFormat, printData } from '../output.js'
import { UsageError } from '../../errors/index.js'

interface KeyItem { id: string, namespace: string, function: string, name: string | null, createdAt: string, expiresAt: string | null, expired: boolean }
interface CreatedKey extends KeyItem { key: string, warnings: string[] }

const V1 = '/apis/roost.dev/v1'

export const command: Command = {
  summary: 'Create, list and revoke API keys of functions (spec.http.auth: key).',
  usage: `Usage: roost key create FUNCTION [-n NS] [--expires 30d] [--name TEXT]
       roost key list [FUNCTION] [-n NS | -A] [-o json|yaml]
       roost key revoke ID...

create prints the key once, on standard output (so KEY=$(roost key create f)
works); the platform keeps only its SHA-256. A caller sends it as
Authorization: Bearer <key> or x-api-key: <key>, and is known to the function
as ctx.caller = key:<id>. The function must have spec.http.auth: key for keys
to be asked for; create warns when it does not yet. list shows ids, never keys.
revoke takes the ids list shows; the key is refused from then on. Deleting a
function deletes its keys.

Flags:
  -n, --namespace       the function's namespace (default: default)
  -A, --all-namespaces  list: every namespace the token may see
      --expires         create: lifetime, such as 30d, 12h or 90m (default: never expires)
      --name            create: a label, such as who the key is for
  -o, --output          list: json or yaml`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('key', argv, {
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      expires: { type: 'string' },
      name: { type: 'string' },
      output: { type: 'string', short: 'o' }
    })
    const [sub, ...args] = positionals
    const namespace = values.namespace ?? 'default'
    if (sub === 'create') {
      const fn = args[0]
      if (fn === undefined || args.length > 1) throw new UsageError('key create needs one FUNCTION', { hint: 'e.g. `roost key create hello --expires 30d`' })
      const created = await connect().post<CreatedKey>(`${V1}/namespaces/${namespace}/functions/${encodeURIComponent(fn)}/keys`, { name: values.name, expires: values.expires })
      process.stdout.write(`${created.key}\n`)
      const expiry = created.expiresAt === null ? 'never expires' : `expires ${created.expiresAt}`
      process.stderr.write(`key ${created.id} for function/${created.function} (${created.namespace}) created, ${expiry}; it is shown this once\n`)
      for (const warning of created.warnings) process.stderr.write(`warning: ${warning}\n`)
      return 0
    }
    if (sub === 'list' || sub === 'ls' || sub === 'get') {
      if (args.length > 1) throw new UsageError('key list takes at most one FUNCTION', { hint: 'e.g. `roost key list hello`' })
      const format = outputFormat(values.output)
      const fn = args[0]
      const path = values['all-namespaces'] === true
        ? `${V1}/keys`
        : fn === undefined ? `${V1}/namespaces/${namespace}/keys` : `${V1}/namespaces/${namespace}/functions/${encodeURIComponent(fn)}/keys`
      const { items } = await connect().get<{ items: KeyItem[] }>(path)
      const shown = items.filter((key) => fn === undefined || key.function === fn)
      if (format !== 'table') return printData(format, shown), 0
      process.stdout.write(shown.length === 0 ? 'No API keys found.\n' : keyTable(shown))
      return 0
    }
    if (sub === 'revoke' || sub === 'delete' || sub === 'rm') {
      if (args.length === 0) throw new UsageError('key revoke needs the key\'s ID', { hint: '`roost key list` shows the ids' })
      const client = connect()
      for (const id of args) {
        const revoked = await client.delete<{ function: string }>(`${V1}/keys/${encodeURIComponent(id)}`)
        process.stdout.write(`key/${id} revoked (function/${revoked.function})\n`)
      }
      return 0
    }
    throw new UsageError(`key: "${sub ?? ''}" is not create, list or revoke`, { hint: 'e.g. `roost key create hello`, `roost key list`, `roost key revoke rk_…`' })
  }
}

export function keyTable (items: KeyItem[], now = Date.now()): string {
  return formatTable(['ID', 'NAMESPACE', 'FUNCTION', 'NAME', 'EXPIRES', 'AGE'], items.map((key) => [
    key.id, key.namespace, key.function, key.name ?? '', expiresColumn(key, now), age(key.createdAt, now)
  ]))
}

function expiresColumn (key: KeyItem, now: number): string {
  if (key.expiresAt === null) return 'never'
  if (key.expired) return 'expired'
  // age() formats the span from its first argument to its second
  return `in ${age(0, Date.parse(key.expiresAt) - now)}`
}
