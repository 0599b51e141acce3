import type { IncomingHttpHeaders } from 'node:http'
import type { Socket } from 'node:net'
import type { BodyReceiver, ProxyRequest } from './call-messages.js'

/** Headers of which node keeps the first and drops repeats (as IncomingMessage's headers do). */
const SINGLE = new Set([
  'age', 'authorization', 'content-length', 'content-type', 'etag', 'expires', 'from', 'host', 'if-modified-since',
  'if-unmodified-since', 'last-modified', 'location', 'max-forwards', 'proxy-authorization', 'referer', 'retry-after',
  'server', 'user-agent'
])

/**
 * A request whose head is parsed and whose body (if any) is in whole: one read
 * by the fast path, or a delivery the control plane handed over in this
 * process (delivery-port.ts), which has no socket. `headers` is built only if
 * asked for; routing reads rawHeaders.
 */
export class FastRequest implements ProxyRequest {
  call: BodyReceiver | null = null
  forwardRaw: string[] | null = null
  receivedBody: Buffer | null = null
  readonly complete = true
  private parsed: IncomingHttpHeaders | null = null

  constructor (
    /** Null for a delivery handed over in this process. */
    readonly socket: Socket | null,
    readonly method: string,
    readonly url: string,
    readonly rawHeaders: string[],
    /** The body, whole; null without one. */
    public preloaded: Buffer | null
  ) {}

  get headers (): IncomingHttpHeaders {
    return this.parsed ??= headersOf(this.rawHeaders)
  }

  // The body is in already: there is nothing to hold back.
  pause (): this {
    return this
  }

  resume (): this {
    return this
  }
}

/** rawHeaders as node's IncomingMessage.headers: names lower-cased, repeats joined (Set-Cookie kept as a list, Cookie joined with ;). */
export function headersOf (raw: string[]): IncomingHttpHeaders {
  const headers: Record<string, string | string[]> = Object.create(null)
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i].toLowerCase()
    const value = raw[i + 1]
    const seen = headers[name]
    if (seen === undefined) headers[name] = name === 'set-cookie' ? [value] : value
    else if (name === 'set-cookie') (seen as string[]).push(value)
    else if (!SINGLE.has(name)) headers[name] = `${seen as string}${name === 'cookie' ? '; ' : ', '}${value}`
  }
  return headers
}
