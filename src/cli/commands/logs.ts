import type { Command } from '../command.js'
import type { LogLineItem } from '../../api/index.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { UsageError } from '../../errors/index.js'
import { readLines } from '../ndjson.js'

export const command: Command = {
  summary: 'Show what a function wrote (console.*, ctx.log, stdout, stderr, crashes).',
  usage: `Usage: roost logs NAME [-n NS] [-f] [--since 5m] [--tail N] [-o json]

Each line shows its time, instance, request id and level.

Flags:
  -n, --namespace   namespace (default: default)
  -f, --follow      keep printing new lines until interrupted
      --since       only lines newer than this (e.g. 30s, 5m, 2h)
      --tail        at most this many of the newest lines (default 1000)
  -o, --output      json: one JSON object per line`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('logs', argv, {
      namespace: { type: 'string', short: 'n' },
      follow: { type: 'boolean', short: 'f' },
      since: { type: 'string' },
      tail: { type: 'string' },
      output: { type: 'string', short: 'o' }
    })
    const name = positionals[0]
    if (name === undefined) throw new UsageError('logs needs the function\'s name', { hint: 'e.g. `roost logs hello -f`' })
    if (values.output !== undefined && values.output !== 'json') throw new UsageError(`logs -o ${values.output} is not supported`, { hint: 'use -o json, or no -o' })
    const json = values.output === 'json'
    const namespace = values.namespace ?? 'default'
    const query = new URLSearchParams()
    if (values.since !== undefined) query.set('since', values.since)
    if (values.tail !== undefined) query.set('limit', values.tail)
    const path = `/apis/roost.dev/v1/namespaces/${namespace}/functions/${name}/logs`
    const client = connect()
    const print = (line: LogLineItem): void => { process.stdout.write(json ? JSON.stringify(line) + '\n' : formatLine(line)) }
    if (values.follow !== true) {
      const { items } = await client.get<{ items: LogLineItem[] }>(`${path}?${query.toString()}`)
      items.forEach(print)
      return 0
    }
    query.set('follow', 'true')
    const response = await client.stream(`${path}?${query.toString()}`)
    await readLines(response, (text) => { if (text.length > 0) print(JSON.parse(text) as LogLineItem) })
    return 0
  }
}

export function formatLine (line: LogLineItem): string {
  const time = new Date(line.time).toISOString()
  const level = line.level.toUpperCase().padEnd(5)
  const request = line.requestId === null ? '-' : line.requestId
  return `${time} ${line.instance} ${request} ${level} ${line.message}\n`
}
