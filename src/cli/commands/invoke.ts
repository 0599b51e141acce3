import { readFileSync } from 'node:fs'
import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { loadClientConfig } from '../config.js'
import { ConnectionError, UsageError } from '../../errors/index.js'

export const command: Command = {
  summary: 'Call a function through the gateway and print the response body.',
  usage: `Usage: roost invoke NAME [-n NS] [--data STR|@FILE] [--content-type T] [--method M] [--header K:V]... [--path /sub?q=1] [-i]

A response that is not 2xx exits with code 1 and prints its status and a hint
on stderr. On a terminal, a text body that does not end with a newline gets one.
The body's Content-Type is --content-type, else a content-type --header, else
application/json when --data is a JSON object or array (or @FILE.json),
text/plain for other text and application/octet-stream for other files.

Flags:
  -n, --namespace   namespace (default: default)
  -d, --data        request body, or @FILE to send a file (implies POST)
      --content-type  Content-Type of the body
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
      include: { type: 'boolean', short: 'i' },
      'content-type': { type: 'string' }
    })
    const name = positionals[0]
    if (name === undefined) throw new UsageError('invoke needs the function\'s name', { hint: 'e.g. `roost invoke hello --data world`' })
    const namespace = values.namespace ?? 'default'
    const body = values.data === undefined ? undefined : readData(values.data)
    const method = (values.method ?? (body === undefined ? 'GET' : 'POST')).toUpperCase()
    const headers = parseHeaders(values.header ?? [])
    if (values.data !== undefined) setContentType(headers, values['content-type'] ?? contentTypeOf(values.data, body))
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
    if (process.stdout.isTTY === true && text.length > 0 && text[text.length - 1] !== 0x0a && isText(response)) process.stdout.write('\n')
    if (response.ok) return 0
    const problem = problemOf(response, text)
    process.stderr.write(`error: HTTP ${response.status} ${response.statusText}${problem.detail}\n`)
    process.stderr.write(`hint: ${problem.hint ?? hintFor(response.status, name, namespace)}\n`)
    return 1
  }
}

function isText (response: Response): boolean {
  const type = response.headers.get('content-type') ?? 'text/plain'
  return /^text\/|[/+]json\b|[/+]xml\b|javascript|x-ndjson|x-www-form-urlencoded/.test(type)
}

function hintFor (status: number, name: string, namespace: string): string {
  const logs = `\`roost logs ${name}${namespace === 'default' ? '' : ` -n ${namespace}`}\``
  if (status === 404) return `\`roost get functions${namespace === 'default' ? '' : ` -n ${namespace}`}\` lists what is deployed; the body above is what answered`
  if (status >= 500) return `${logs} shows what the function wrote; \`roost describe ${name}\` its instances and events`
  return `the function answered ${status}; ${logs} shows what it wrote`
}

/** Any content-type the caller gave wins over the guess. */
function setContentType (headers: Record<string, string>, type: string): void {
  if (Object.keys(headers).some((key) => key.toLowerCase() === 'content-type')) return
  headers['content-type'] = type
}

function contentTypeOf (data: string, body: Uint8Array | string | undefined): string {
  if (data.startsWith('@')) return data.toLowerCase().endsWith('.json') ? 'application/json' : typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/octet-stream'
  const trimmed = data.trimStart()
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      JSON.parse(data)
      return 'application/json'
    } catch {}
  }
  return 'text/plain; charset=utf-8'
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

function problemOf (response: Response, body: Uint8Array): { detail: string, hint?: string } {
  if (!(response.headers.get('content-type') ?? '').includes('problem+json')) return { detail: '' }
  try {
    const problem = JSON.parse(Buffer.from(body).toString('utf8')) as { code?: string, detail?: string, hint?: string }
    return { detail: `: ${problem.code ?? ''} ${problem.detail ?? ''}`.trimEnd(), hint: typeof problem.hint === 'string' ? problem.hint : undefined }
  } catch {
    return { detail: '' }
  }
}
