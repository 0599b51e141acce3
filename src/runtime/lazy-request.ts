import type { RequestBody } from './request-body.js'

// The web Request a handler receives, made cheap: method, url and headers are
// served from what arrived, and text()/json()/arrayBuffer() read the buffered
// body directly. The real Request (undici's, with its web streams) is built
// once, only when the handler touches something only it has (signal, body as
// a stream, clone, formData, …, or undici's internal slots, as `fetch(req)`
// and `new Request(req)` do). Its prototype is chained to Request.prototype,
// so `instanceof Request` holds.

const RealRequest = globalThis.Request

// Paths the URL parser would leave as they are: the url is then a concatenation.
const PLAIN_PATH = /^\/[A-Za-z0-9\-._~!$&()*+,;=:@%/?]*$/
const PLAIN_HOST = /^[a-z0-9.-]+(?::[0-9]{1,5})?$/
const DOT_SEGMENT = /\/\.|%2e/i
const UTF8_BOM = 0xfeff
const FORBIDDEN_METHODS = new Set(['TRACE', 'TRACK', 'CONNECT'])

// The members it forwards to the real Request, for the type checker.
// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export interface LazyRequest extends Omit<Request, 'method' | 'url' | 'headers' | 'bodyUsed' | 'text' | 'json' | 'arrayBuffer'> {}

// eslint-disable-next-line @typescript-eslint/no-unsafe-declaration-merging
export class LazyRequest {
  readonly #method: string
  readonly #path: string
  #url: string | null = null
  readonly #rawHeaders: string[]
  readonly #body: RequestBody | null
  #headers: Headers | null = null
  #real: Request | null = null
  #bodyUsed = false
  #abort: AbortController | null = null
  #abortReason: Error | null = null

  /** `rawHeaders`: flat names and values; `path`: path and query as the function sees them. */
  constructor (method: string, path: string, rawHeaders: string[], body: RequestBody | null) {
    this.#method = method
    this.#rawHeaders = rawHeaders
    this.#body = body
    this.#path = path
  }

  get method (): string { return this.#method }

  get url (): string {
    if (this.#real !== null) return this.#real.url
    if (this.#url === null) this.#url = absoluteUrl(hostOf(this.#rawHeaders), this.#path)
    return this.#url
  }

  get headers (): Headers {
    if (this.#real !== null) return this.#real.headers
    if (this.#headers === null) this.#headers = headersOf(this.#rawHeaders)
    return this.#headers
  }

  get bodyUsed (): boolean { return this.#real === null ? this.#bodyUsed : this.#real.bodyUsed }

  /** The first value of a header (`name` lower case), read from the raw list: no Headers object is made. */
  rawHeader (name: string): string | null {
    const raw = this.#rawHeaders
    for (let i = 0; i < raw.length; i += 2) {
      if (raw[i].length === name.length && raw[i].toLowerCase() === name) return raw[i + 1]
    }
    return null
  }

  /** True while nothing forced the real Request into being (for tests and the curious). */
  get isLight (): boolean { return this.#real === null }

  text (): Promise<string> {
    if (this.#real !== null) return this.#real.text()
    return this.#readAll().then(decodeUtf8)
  }

  json (): Promise<unknown> {
    if (this.#real !== null) return this.#real.json()
    return this.#readAll().then((bytes) => JSON.parse(decodeUtf8(bytes)))
  }

  arrayBuffer (): Promise<ArrayBuffer> {
    if (this.#real !== null) return this.#real.arrayBuffer()
    return this.#readAll().then((bytes) => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer)
  }

  /** The whole body as bytes, at most `maxBytes` of it (else a BodyTooLargeError): for the runtime's own reads. */
  readBody (maxBytes: number): Promise<Buffer> {
    if (this.#real !== null) return Promise.reject(new TypeError('the body was handed to a real Request already'))
    return this.#readAll(maxBytes)
  }

  /** The caller went away: the handler's signal aborts (now, or when it is first read). */
  abort (reason: Error): void {
    if (this.#abortReason !== null) return
    this.#abortReason = reason
    this.#abort?.abort(reason)
  }

  /** The real Request, built on first need from what arrived. */
  materialize (): Request {
    if (this.#real !== null) return this.#real
    const controller = new AbortController()
    if (this.#abortReason !== null) controller.abort(this.#abortReason)
    this.#abort = controller
    // undici refuses to make a Request of TRACE, TRACK or CONNECT; the handler still sees the method that came.
    const forbidden = FORBIDDEN_METHODS.has(this.#method.toUpperCase())
    const init: RequestInit & { duplex?: 'half' } = { method: forbidden ? 'GET' : this.#method, headers: this.headers, signal: controller.signal }
    if (this.#body !== null && !forbidden) {
      init.body = this.#bodyUsed ? new ReadableStream<Uint8Array>() : this.#body.stream()
      init.duplex = 'half'
    }
    const real = new RealRequest(this.url, init)
    // A body already read directly is used in the real one too.
    if (this.#bodyUsed && real.body !== null) void real.body.getReader().read().catch(() => {})
    this.#real = real
    return real
  }

  #readAll (maxBytes?: number): Promise<Buffer> {
    const body = this.#body
    if (body === null) return Promise.resolve(EMPTY)
    if (this.#bodyUsed) return Promise.reject(new TypeError('Body is unusable: Body has already been read'))
    this.#bodyUsed = true
    return body.readAll(maxBytes)
  }
}

const EMPTY = Buffer.alloc(0)

// Everything else of Request.prototype goes to the real Request.
const own = new Set(Object.getOwnPropertyNames(LazyRequest.prototype))
for (const key of Object.getOwnPropertyNames(RealRequest.prototype)) {
  if (own.has(key)) continue
  const descriptor = Object.getOwnPropertyDescriptor(RealRequest.prototype, key) as PropertyDescriptor
  if (typeof descriptor.value === 'function') {
    Object.defineProperty(LazyRequest.prototype, key, {
      configurable: true,
      writable: true,
      value: function (this: LazyRequest, ...args: unknown[]) {
        const real = this.materialize() as unknown as Record<string, (...a: unknown[]) => unknown>
        return real[key](...args)
      }
    })
  } else if (descriptor.get !== undefined) {
    Object.defineProperty(LazyRequest.prototype, key, {
      configurable: true,
      get (this: LazyRequest) { return (this.materialize() as unknown as Record<string, unknown>)[key] }
    })
  }
}
// undici's own code (fetch, new Request(req), Request.prototype.x.call) reads internal slots by symbol.
for (const key of Reflect.ownKeys(new RealRequest('http://localhost/'))) {
  if (typeof key !== 'symbol') continue
  Object.defineProperty(LazyRequest.prototype, key, {
    configurable: true,
    get (this: LazyRequest) { return (this.materialize() as unknown as Record<symbol, unknown>)[key] }
  })
}
Object.setPrototypeOf(LazyRequest.prototype, RealRequest.prototype)
// `new req.constructor(…)` and `req.constructor.name` behave as with a real one.
Object.defineProperty(LazyRequest.prototype, 'constructor', { configurable: true, writable: true, value: RealRequest })

function hostOf (rawHeaders: string[]): string {
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]
    if (name.length === 4 && name.toLowerCase() === 'host') return rawHeaders[i + 1]
  }
  return 'localhost'
}

function absoluteUrl (host: string, path: string): string {
  if (PLAIN_HOST.test(host) && PLAIN_PATH.test(path) && !DOT_SEGMENT.test(path)) return `http://${host}${path}`
  try {
    return new URL(path.startsWith('/') ? path : `/${path}`, `http://${PLAIN_HOST.test(host.toLowerCase()) ? host : 'localhost'}`).href
  } catch {
    return `http://localhost${PLAIN_PATH.test(path) ? path : '/'}`
  }
}

function headersOf (rawHeaders: string[]): Headers {
  const headers = new Headers()
  for (let i = 0; i < rawHeaders.length; i += 2) {
    try {
      headers.append(rawHeaders[i], rawHeaders[i + 1])
    } catch {
      // A name or value the Headers class refuses is left out rather than failing the request.
    }
  }
  return headers
}

function decodeUtf8 (bytes: Buffer): string {
  const text = bytes.toString('utf8')
  return text.charCodeAt(0) === UTF8_BOM ? text.slice(1) : text
}
