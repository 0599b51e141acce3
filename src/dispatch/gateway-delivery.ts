// Deliveries over HTTP/1.1 to the gateway's own port, on kept-alive
// connections (undici's Pool). The dispatcher writes every header (the event,
// the run's event token); this only sends and reads the answer.
import { Pool } from 'undici'
import type { DeliveryAnswer, DeliveryRequest } from './consumer.js'

export interface GatewayDeliveryOptions {
  /** The gateway's base URL, http://host:port. */
  url: string
  /** Connections kept to the gateway; deliveries beyond them wait for one. Default 64. */
  connections?: number
}

/**
 * An answer's body is read up to this; the rest is dropped. A queue handler's
 * results are small; an invocation's stored response is cut at its queue's
 * maxResponseBytes (1 MiB), so a little more tells the store it was cut.
 */
export const MAX_ANSWER_BYTES = 1024 * 1024 + 1

export class GatewayDelivery {
  private readonly pool: Pool

  constructor (options: GatewayDeliveryOptions) {
    this.pool = new Pool(options.url, { connections: options.connections ?? 64, pipelining: 1, keepAliveTimeout: 30_000 })
  }

  /** Never rejects: every outcome is a DeliveryAnswer. */
  readonly deliver = async (request: DeliveryRequest, signal: AbortSignal): Promise<DeliveryAnswer> => {
    try {
      const response = await this.pool.request({
        path: request.path,
        method: request.method as 'POST',
        // undici takes headers as a flat list of names and values (repeats kept, order kept).
        headers: request.headers.flat(),
        body: request.body,
        signal,
        headersTimeout: request.timeoutMs,
        bodyTimeout: request.timeoutMs
      })
      const headers: Record<string, string> = {}
      for (const [name, value] of Object.entries(response.headers)) {
        if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value
      }
      return { kind: 'answered', status: response.statusCode, headers, body: await boundedBody(response.body) }
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

async function boundedBody (body: AsyncIterable<Buffer> & { destroy: () => void }): Promise<Buffer> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of body) {
    const room = MAX_ANSWER_BYTES - size
    if (chunk.length >= room) {
      chunks.push(chunk.subarray(0, room))
      body.destroy()
      break
    }
    chunks.push(chunk)
    size += chunk.length
  }
  return chunks.length === 1 ? chunks[0] as Buffer : Buffer.concat(chunks)
}
