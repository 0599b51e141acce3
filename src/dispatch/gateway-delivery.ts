// Deliveries over HTTP/1.1 to the gateway's own port, on kept-alive
// connections (undici's Pool). The event token proves to the gateway that
// the platform itself sends the event (docs/event-delivery.md).
import { Pool } from 'undici'
import type { DeliveryAnswer, DeliveryRequest } from './consumer.js'

export interface GatewayDeliveryOptions {
  /** The gateway's base URL, http://host:port. */
  url: string
  /** The run's event secret (64 hex). */
  eventToken: string
  /** Connections kept to the gateway; deliveries beyond them wait for one. Default 64. */
  connections?: number
}

/** An answer's body is read up to this; the rest is dropped (a queue handler's results are small). */
const MAX_ANSWER_BYTES = 1024 * 1024

export class GatewayDelivery {
  private readonly pool: Pool

  constructor (private readonly options: GatewayDeliveryOptions) {
    this.pool = new Pool(options.url, { connections: options.connections ?? 64, pipelining: 1, keepAliveTimeout: 30_000 })
  }

  /** Never rejects: every outcome is a DeliveryAnswer. */
  readonly deliver = async (request: DeliveryRequest, signal: AbortSignal): Promise<DeliveryAnswer> => {
    try {
      const response = await this.pool.request({
        path: request.path,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-roost-event': request.event,
          'x-roost-event-token': this.options.eventToken
        },
        body: request.body,
        signal,
        headersTimeout: request.timeoutMs,
        bodyTimeout: request.timeoutMs
      })
      const retryAfter = response.headers['retry-after']
      return { kind: 'answered', status: response.statusCode, body: await boundedText(response.body), retryAfter: Array.isArray(retryAfter) ? retryAfter[0] : retryAfter }
    } catch (err) {
      if (signal.aborted) return { kind: 'aborted' }
      const code = (err as { code?: string }).code
      if (code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT') return { kind: 'timed-out' }
      return { kind: 'unreachable', error: err instanceof Error ? err.message : String(err) }
    }
  }

  async close (): Promise<void> {
    await this.pool.destroy()
  }
}

async function boundedText (body: AsyncIterable<Buffer> & { destroy: () => void }): Promise<string> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    if (size + chunk.length > MAX_ANSWER_BYTES) {
      body.destroy()
      break
    }
    chunks.push(chunk)
    size += chunk.length
  }
  return chunks.length === 1 ? (chunks[0] as Buffer).toString('utf8') : Buffer.concat(chunks).toString('utf8')
}
