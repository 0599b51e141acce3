import type { IncomingHttpHeaders } from 'node:http'
import type { BodyReceiver, ProxyRequest } from './call-messages.js'
import { headersOf } from './fast-request.js'

/**
 * A delivery of the control plane, handed to the gateway in this process
 * (delivery-port.ts): no socket, its body in whole. The gateway routes it as
 * it routes a request that came over HTTP.
 */
export class PortRequest implements ProxyRequest {
  call: BodyReceiver | null = null
  forwardRaw: string[] | null = null
  receivedBody: Buffer | null = null
  readonly complete = true
  readonly socket = null
  private parsed: IncomingHttpHeaders | null = null

  constructor (
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
