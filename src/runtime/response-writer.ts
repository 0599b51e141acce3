import { LightResponse, NativeResponse } from './light-response.js'
import type { ResponseSink } from './response-sink.js'

// undici keeps a Response's body in an internal slot: its `source` is the
// string or bytes it was made from. Reading it skips the web stream; if a
// Node version lacks the slot, every body takes the stream path.
const STATE = Reflect.ownKeys(new NativeResponse()).find((key): key is symbol => typeof key === 'symbol' && key.description === 'state')

interface BodyState {
  source: unknown
  stream: ReadableStream<Uint8Array> | null
}

const noop = (): void => {}

/** The handler returned a Response that cannot be sent (Response.error(), a status out of range). */
export class UnsendableResponseError extends Error {
  readonly code = 'ROOST_E_HANDLER'
}

/**
 * Writes a handler's Response to a sink. Plain bodies (a string or bytes,
 * however the Response was made) leave whole with their content-length; any
 * other body streams chunk by chunk, each as soon as the handler produces it,
 * with back-pressure. Returns a promise only when it has to wait.
 */
export function writeResponse (response: Response, sink: ResponseSink, omitBody: boolean): Promise<void> | undefined {
  if (LightResponse.is(response)) {
    const headers = LightResponse.plainHeaders(response)
    if (headers !== null) {
      sink.whole(response.status, withoutLength(headers), LightResponse.plainBody(response), omitBody)
      return undefined
    }
  }
  const status = response.status
  if (status < 200 || status > 599) throw new UnsendableResponseError(`the function returned a Response of status ${status} (${response.type})`)
  const headers = flatHeaders(response.headers)
  const state = STATE === undefined ? undefined : (response as unknown as Record<symbol, { body: BodyState | null } | undefined>)[STATE]
  const body = state?.body ?? null
  if (state !== undefined && body === null) {
    sink.whole(status, withoutLength(headers), null, omitBody)
    return undefined
  }
  if (body !== null && (typeof body.source === 'string' || body.source instanceof Uint8Array) && !response.bodyUsed && body.stream?.locked !== true) {
    sink.whole(status, withoutLength(headers), body.source, omitBody)
    return undefined
  }
  const stream = response.body
  if (stream === null) {
    sink.whole(status, withoutLength(headers), null, omitBody)
    return undefined
  }
  // The head is written now: a head that cannot be sent throws here, while a 500 can still replace it.
  sink.head(status, headers)
  return pump(stream, sink, omitBody)
}

async function pump (stream: ReadableStream<Uint8Array>, sink: ResponseSink, omitBody: boolean): Promise<void> {
  if (omitBody) {
    sink.end()
    stream.cancel().catch(noop)
    return
  }
  const reader = stream.getReader()
  sink.onClose(() => { reader.cancel(new Error('the caller went away')).catch(noop) })
  try {
    for (;;) {
      const next = await reader.read()
      if (sink.closed) return
      if (next.done) break
      const value: unknown = next.value
      if (!(value instanceof Uint8Array)) throw new TypeError(`the response body produced ${typeof value === 'string' ? 'a string' : typeof value} instead of a Uint8Array`)
      if (value.length === 0) continue
      if (!sink.chunk(value)) {
        await sink.ready()
        if (sink.closed) return
      }
    }
  } catch (err) {
    if (sink.closed) return
    sink.abort(err instanceof Error ? err.message : String(err))
    reader.cancel(err).catch(noop)
    throw err
  }
  sink.end()
}

function flatHeaders (headers: Headers): string[] {
  const flat: string[] = []
  // Iteration yields each set-cookie on its own, the rest combined.
  for (const [name, value] of headers) flat.push(name, value)
  return flat
}

/** A whole body's length is the runtime's to say. */
function withoutLength (headers: string[]): string[] {
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]
    if (name === 'content-length' || name === 'transfer-encoding') return headers.filter((_, at) => at % 2 === 0 ? !isLength(headers[at]) : !isLength(headers[at - 1]))
  }
  return headers
}

function isLength (name: string): boolean {
  return name === 'content-length' || name === 'transfer-encoding'
}
