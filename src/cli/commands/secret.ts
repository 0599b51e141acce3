import { readFileSync } from 'node:fs'
import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { parseDotenv } from '../dotenv.js'
import { age, formatTable, outputFormat, printData } from '../output.js'
import { UsageError } from '../../errors/index.js'

interface SecretItem { metadata: { name: string, namespace: string, creationTimestamp: string }, keys: string[], usedBy: string[] }
interface Written { result: string, secret: SecretItem, rolled: Array<{ function: string, version: number }> }

const V1 = '/apis/roost.dev/v1'

export const command: Command = {
  summary: 'Create, list and delete secrets: values that functions take into their env.',
  usage: `Usage: roost secret create NAME [-n NS] [--from-literal KEY=VALUE]... [--from-env-file FILE]... [--overwrite]
       roost secret list [-n NS | -A] [-o json|yaml]
       roost secret delete NAME... [-n NS]

create sends the values once; the platform stores them sealed and never shows
them again (list, get and describe show keys only). Without --overwrite an
existing secret is an error; with it, the values are replaced and every
function that uses the secret gets a new version (a normal rollout). A function
refers to a secret from its manifest:
  env: { DB_PASSWORD: { valueFrom: { secretKeyRef: { name: db, key: PASSWORD } } } }
  envFrom: [ { secretRef: { name: db } } ]
delete is refused while a function refers to the secret.

Flags:
  -n, --namespace       the namespace (default: default)
  -A, --all-namespaces  list: every namespace the token may see
      --from-literal    KEY=VALUE, repeatable
      --from-env-file   a dotenv file: KEY=VALUE lines, # comments, optional quotes; repeatable
      --overwrite       create: replace the values of an existing secret
  -o, --output          list: json or yaml`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('secret', argv, {
      namespace: { type: 'string', short: 'n' },
      'all-namespaces': { type: 'boolean', short: 'A' },
      'from-literal': { type: 'string', multiple: true },
      'from-env-file': { type: 'string', multiple: true },
      overwrite: { type: 'boolean' },
      output: { type: 'string', short: 'o' }
    })
    const [sub, ...names] = positionals
    const namespace = values.namespace ?? 'default'
    if (sub === 'create') {
      const name = names[0]
      if (name === undefined || names.length > 1) throw new UsageError('secret create needs one NAME', { hint: 'e.g. `roost secret create db --from-literal PASSWORD=s3cret`' })
      const data = secretData(values['from-literal'] ?? [], values['from-env-file'] ?? [])
      const client = connect()
      const written = values.overwrite === true
        ? await client.put<Written>(`${V1}/namespaces/${namespace}/secrets/${name}`, { data })
        : await client.post<Written>(`${V1}/namespaces/${namespace}/secrets`, { metadata: { name }, data })
      process.stdout.write(`secret/${name} ${written.result} (${written.secret.keys.length} key(s))\n`)
      for (const rolled of written.rolled) process.stdout.write(`function/${rolled.function} v${rolled.version} created\n`)
      return 0
    }
    if (sub === 'list' || sub === 'ls' || sub === 'get') {
      const format = outputFormat(values.output)
      const path = values['all-namespaces'] === true ? `${V1}/secrets` : `${V1}/namespaces/${namespace}/secrets`
      const { items } = await connect().get<{ items: SecretItem[] }>(path)
      const shown = items.filter((s) => names.length === 0 || names.includes(s.metadata.name))
      if (format !== 'table') return printData(format, shown), 0
      process.stdout.write(shown.length === 0 ? 'No secrets found.\n' : secretTable(shown))
      return 0
    }
    if (sub === 'delete' || sub === 'rm') {
      if (names.length === 0) throw new UsageError('secret delete needs the secret\'s NAME', { hint: '`roost secret list` shows them' })
      const client = connect()
      for (const name of names) {
        await client.delete(`${V1}/namespaces/${namespace}/secrets/${name}`)
        process.stdout.write(`secret/${name} deleted\n`)
      }
      return 0
    }
    throw new UsageError(`secret: "${sub ?? ''}" is not create, list or delete`, { hint: 'e.g. `roost secret create db --from-literal PASSWORD=s3cret`' })
  }
}

export function secretTable (items: SecretItem[]): string {
  return formatTable(['NAMESPACE', 'NAME', 'KEYS', 'USED BY', 'AGE'], items.map((s) => [s.metadata.namespace, s.metadata.name, s.keys.join(','), s.usedBy.join(',') || '<none>', age(s.metadata.creationTimestamp)]))
}

/** The values of the flags: env files first, in order, then literals, a later one winning. */
export function secretData (literals: string[], files: string[]): Record<string, string> {
  const data: Record<string, string> = Object.create(null) as Record<string, string> // a key such as __proto__ stays a key
  for (const file of files) {
    let text: string
    try {
      text = readFileSync(file, 'utf8')
    } catch (err) {
      throw new UsageError(`cannot read --from-env-file ${file}: ${(err as Error).message}`, { hint: 'give the path of a dotenv file' })
    }
    for (const [key, value] of parseDotenv(text, file)) data[key] = value
  }
  for (const literal of literals) {
    const equals = literal.indexOf('=')
    if (equals <= 0) throw new UsageError('--from-literal takes KEY=VALUE', { hint: 'e.g. --from-literal PASSWORD=s3cret' })
    data[literal.slice(0, equals)] = literal.slice(equals + 1)
  }
  if (Object.keys(data).length === 0) throw new UsageError('secret create needs values', { hint: 'give --from-literal KEY=VALUE or --from-env-file FILE' })
  return data
}
