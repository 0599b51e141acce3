import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { age, formatTable, outputFormat, printData } from '../output.js'
import { UsageError } from '../../errors/index.js'

interface DeadItem {
  id: string
  body: unknown
  bodyType: 'json' | 'text' | 'bytes'
  attributes: Record<string, string>
  attempts: number
  maxAttempts: number
  reason: string | null
  createdAt: number
  finishedAt: number | null
  history: Array<{ delivery: number, counted: boolean, outcome: string, error: string | null }>
}

const V1 = '/apis/roost.dev/v1'
/** A table row shows this much of a body and a reason; -o json has them whole. */
const SHOWN_CHARS = 60

export const command: Command = {
  summary: 'List, replay and purge the dead messages of a queue.',
  usage: `Usage: roost dlq list QUEUE [-n NS] [--limit N] [-o json|yaml]
       roost dlq replay QUEUE (--id ID... | --all) [-n NS]
       roost dlq purge QUEUE (--id ID... | --all) [-n NS]

A message is dead after its last attempt (or when its handler dead-letters
it); it keeps its body, attributes and every attempt's error. replay puts
it back in the queue, due now, with a fresh set of attempts; purge deletes it.

Flags:
  -n, --namespace   namespace (default: default)
      --id          a dead message (repeatable)
      --all         every dead message of the queue
      --limit       list: at most this many (default 100)
  -o, --output      list: json or yaml`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('dlq', argv, {
      namespace: { type: 'string', short: 'n' },
      id: { type: 'string', multiple: true },
      all: { type: 'boolean' },
      limit: { type: 'string' },
      output: { type: 'string', short: 'o' }
    })
    const [sub, queue, ...extra] = positionals
    if (sub !== 'list' && sub !== 'replay' && sub !== 'purge') throw new UsageError(`dlq what? "${sub ?? ''}" is not list, replay or purge`, { hint: 'e.g. `roost dlq list orders`' })
    if (queue === undefined || extra.length > 0) throw new UsageError(`dlq ${sub} needs one QUEUE`, { hint: `e.g. \`roost dlq ${sub} orders${sub === 'list' ? '' : ' --all'}\`` })
    const namespace = values.namespace ?? 'default'
    const path = `${V1}/namespaces/${namespace}/queues/${encodeURIComponent(queue)}/dead`
    const client = connect()
    if (sub === 'list') {
      const format = outputFormat(values.output)
      const query = values.limit === undefined ? '' : `?limit=${encodeURIComponent(values.limit)}`
      const { items } = await client.get<{ items: DeadItem[] }>(`${path}${query}`)
      if (format !== 'table') return printData(format, items), 0
      process.stdout.write(items.length === 0 ? `No dead messages in queue ${queue}.\n` : formatTable(['ID', 'ATTEMPTS', 'DIED', 'REASON', 'BODY'], items.map((item) => [
        item.id, `${item.attempts}/${item.maxAttempts}`, item.finishedAt === null ? '' : age(item.finishedAt), cut(item.reason ?? ''), cut(bodyText(item))
      ])))
      return 0
    }
    const ids = values.id ?? []
    if ((ids.length > 0) === (values.all === true)) throw new UsageError(`dlq ${sub} needs --id ID (repeatable) or --all, one of the two`, { hint: '`roost dlq list QUEUE` shows the ids' })
    if (sub === 'replay') {
      const { replayed } = await client.post<{ replayed: number }>(`${path}/replay`, values.all === true ? { all: true } : { ids })
      process.stdout.write(`${replayed} dead message${replayed === 1 ? '' : 's'} of queue ${queue} replayed\n`)
      return 0
    }
    const query = values.all === true ? 'all=true' : ids.map((id) => `id=${encodeURIComponent(id)}`).join('&')
    const { purged } = await client.delete<{ purged: number }>(`${path}?${query}`)
    process.stdout.write(`${purged} dead message${purged === 1 ? '' : 's'} of queue ${queue} purged\n`)
    return 0
  }
}

function bodyText (item: DeadItem): string {
  if (item.bodyType === 'bytes') return `<${Math.floor(String(item.body).length * 3 / 4)} bytes>`
  return typeof item.body === 'string' && item.bodyType === 'text' ? item.body : JSON.stringify(item.body)
}

function cut (text: string): string {
  const line = text.replace(/\s+/g, ' ')
  return line.length <= SHOWN_CHARS ? line : `${line.slice(0, SHOWN_CHARS - 1)}…`
}
