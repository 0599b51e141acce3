import { readFileSync } from 'node:fs'
import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { loadClientConfig } from '../config.js'
import { ConnectionError, UsageError } from '../../errors/index.js'

export const command: Command = {
  summary: 'Call a function through the gateway and print the response body.',
  usage: `Usage: roost invoke NAME [-n NS] [--data STR|@FILE] [--method M] [--header K:V]... [--path /sub?q=1] [-i]

A response that is not 2xx exits with code 1 and prints its status on stderr.

Flags:
  -n, --namespace   namespace (default: default)
  -d, --data        request body, or @FILE to send a file (implies POST)
  -X, --method      HTTP method (default: GET, or POST with --data)
  -H, --header      request header K:V (repeatable)
      --path        path and query after the function's route (default: /)
  -i, --include     print the status line and headers too`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('invoke', argv, {
      namespace: { type: 'string', short: 'n' },
      data: { type: 'string', short: 'd' },
      method: { type: 'string', short: 'X' },
      header: { type: 'string', short: 'H', multiple: true },
      path: { type: 'string' },
      include: { type: 'boolean', short: 'i' }
    })
    const name = positionals[0]
    if (name === undefined) throw new UsageError('invoke needs the function\'s name', { hint: 'e.g. `roost invoke hello --data world`' })
    const namespace = values.namespace ?? 'default'
    const body = values.data === undefined ? undefined : readData(values.data)
    const method = (values.method ?? (body === undefined ? 'GET' : 'POST')).toUpperCase()
    const headers = parseHeaders(values.header ?? [])
    const path = values.path === undefined ? '' : values.path.startsWith('/') ? values.path : `/${values.path}`
    const url = `${loadClientConfig().gateway}/fn/${name}.${namespace}${path}`
    let response: Response
    try {
      response = await fetch(url, { method, headers, body })
    } catch (err) {
      throw new ConnectionError(`cannot reach the gateway at ${url}: ${(err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message}`, { hint: 'is `roost up` running?' })
    }
    const text = new Uint8Array(await response.arrayBuffer())
    if (values.include === true) {
      process.stdout.write(`HTTP/1.1 ${response.status} ${response.statusText}\n`)
      for (const [key, value] of response.headers) process.stdout.write(`${key}: ${value}\n`)
      process.stdout.write('\n')
    }
    process.stdout.write(text)
    if (response.ok) return 0
    process.stderr.write(`error: HTTP ${response.status} ${response.statusText}${problemDetail(response, text)}\n`)
    return 1
  }
}

function readData (data: string): Uint8Array | string {
  if (!data.startsWith('@')) return data
  try {
    return readFileSync(data.slice(1))
  } catch (err) {
    throw new UsageError(`cannot read ${data.slice(1)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { hint: '--data @FILE sends the file FILE' })
  }
}

function parseHeaders (pairs: string[]): Record<string, string> {
  const headers: Record<string, string> = {}
  for (const pair of pairs) {
    const colon = pair.indexOf(':')
    if (colon <= 0) throw new UsageError(`--header "${pair}" is not K:V`, { hint: 'e.g. --header content-type:application/json' })
    headers[pair.slice(0, colon).trim()] = pair.slice(colon + 1).trim()
  }
  return headers
}

function problemDetail (response: Response, body: Uint8Array): string {
  if (!(response.headers.get('content-type') ?? '').includes('problem+json')) return ''
  try {
    const problem = JSON.parse(Buffer.from(body).toString('utf8')) as { code?: string, detail?: string }
    return `: ${problem.code ?? ''} ${problem.detail ?? ''}`.trimEnd()
  } catch {
    return ''
  }
}
