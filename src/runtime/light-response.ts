// A global Response that is cheap to make. In Node 20, `new Response('hello')`
// builds a web ReadableStream at once, which alone costs more than half of
// what a plain node:http server spends on a request. This class keeps a
// plain body (string, bytes, none) and its init as they were given, and
// builds the real Response (undici's) only when something asks for more than
// the runtime's writer reads. Its prototype is chained to the real one, so
// `instanceof Response`, subclasses and the static methods keep working.

const RealResponse = globalThis.Response

const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/
// A value the Headers class would keep as it is: no CR, LF or NUL, no surrounding whitespace, latin1 only.
const PLAIN_VALUE = /^(?:[^\0\r\n\t \u0100-\uffff](?:[^\0\r\n\u0100-\uffff]*[^\0\r\n\t \u0100-\uffff])?)?$/
const TEXT_PLAIN = 'text/plain;charset=UTF-8'

export type PlainBody = string | Uint8Array | null
type BodyInit = ConstructorParameters<typeof Response>[0]

export class LightResponse {
  #body: PlainBody = null
  #status = 200
  /** Flat lower-case names and values, or null once the real one exists. */
  #headers: string[] | null = null
  #init: ResponseInit | undefined
  #source: BodyInit | null | undefined
  #real: Response | null = null

  constructor (body?: BodyInit | null, init?: ResponseInit) {
    this.#source = body
    this.#init = init
    const plain = plainBody(body)
    const headers = plain === undefined ? null : plainInit(init, plain !== null)
    if (plain === undefined || headers === null) {
      // Anything else is undici's to judge (and to throw for), at once.
      this.#real = new RealResponse(body, init)
      return
    }
    if (typeof plain === 'string' && !hasName(headers, 'content-type')) headers.push('content-type', TEXT_PLAIN)
    this.#body = plain
    this.#headers = headers
    if (init?.status !== undefined) this.#status = init.status
  }

  get status (): number { return this.#real === null ? this.#status : this.#real.status }
  get ok (): boolean { return this.#real === null ? this.#status < 300 : this.#real.ok }

  /** The real Response, built on first need. */
  materialize (): Response {
    if (this.#real === null) {
      this.#real = new RealResponse(this.#source, this.#init)
      this.#headers = null
    }
    return this.#real
  }

  /** For the writer: the flat headers while nothing made the real one, else null. */
  static plainHeaders (response: LightResponse): string[] | null {
    return response.#real === null ? response.#headers : null
  }

  /** For the writer: the plain body (meaningful while plainHeaders is not null). */
  static plainBody (response: LightResponse): PlainBody {
    return response.#body
  }

  static is (value: unknown): value is LightResponse {
    return typeof value === 'object' && value !== null && #real in value
  }
}

const own = new Set(Object.getOwnPropertyNames(LightResponse.prototype))
for (const key of Object.getOwnPropertyNames(RealResponse.prototype)) {
  if (own.has(key)) continue
  const descriptor = Object.getOwnPropertyDescriptor(RealResponse.prototype, key) as PropertyDescriptor
  if (typeof descriptor.value === 'function') {
    Object.defineProperty(LightResponse.prototype, key, {
      configurable: true,
      writable: true,
      value: function (this: LightResponse, ...args: unknown[]) {
        const real = this.materialize() as unknown as Record<string, (...a: unknown[]) => unknown>
        return real[key](...args)
      }
    })
  } else if (descriptor.get !== undefined) {
    Object.defineProperty(LightResponse.prototype, key, {
      configurable: true,
      get (this: LightResponse) { return (this.materialize() as unknown as Record<string, unknown>)[key] }
    })
  }
}
// undici's own code reads internal slots by symbol (e.g. `new Response(body, response)` or `Response.prototype.clone.call`).
for (const key of Reflect.ownKeys(new RealResponse())) {
  if (typeof key !== 'symbol') continue
  Object.defineProperty(LightResponse.prototype, key, {
    configurable: true,
    get (this: LightResponse) { return (this.materialize() as unknown as Record<symbol, unknown>)[key] }
  })
}
Object.setPrototypeOf(LightResponse.prototype, RealResponse.prototype)
Object.setPrototypeOf(LightResponse, RealResponse)
Object.defineProperty(LightResponse, 'name', { value: 'Response' })

/** Makes `Response` in user code the light one. Idempotent. */
export function installLightResponse (): void {
  if (globalThis.Response === (LightResponse as unknown as typeof Response)) return
  Object.defineProperty(globalThis, 'Response', { configurable: true, writable: true, enumerable: false, value: LightResponse })
}

/** The real Response class, whatever `globalThis.Response` is now. */
export const NativeResponse = RealResponse

/** A body kept as it is, null for none, undefined for a kind left to undici. */
function plainBody (body: unknown): PlainBody | undefined {
  if (body === undefined || body === null) return null
  if (typeof body === 'string') return body
  if (body instanceof Uint8Array) return body
  if (body instanceof ArrayBuffer) return new Uint8Array(body)
  return undefined
}

/** Flat headers of an init undici would accept unchanged, or null when it is anything else. */
function plainInit (init: ResponseInit | undefined, hasBody: boolean): string[] | null {
  if (init === undefined || init === null) return []
  if (typeof init !== 'object') return null
  const { status, statusText, headers } = init
  if (status !== undefined && (!Number.isInteger(status) || status < 200 || status > 599)) return null
  if (hasBody && (status === 204 || status === 205 || status === 304)) return null
  if (statusText !== undefined) return null
  if (headers === undefined) return []
  const flat: string[] = []
  if (headers instanceof Headers) {
    for (const [name, value] of headers) flat.push(name, value)
    return flat
  }
  if (Array.isArray(headers)) {
    for (const pair of headers) {
      if (!Array.isArray(pair) || pair.length !== 2 || !addHeader(flat, pair[0], pair[1])) return null
    }
    return flat
  }
  if (typeof headers !== 'object' || headers === null) return null
  const proto = Object.getPrototypeOf(headers)
  if (proto !== Object.prototype && proto !== null) return null
  for (const name in headers) {
    if (!addHeader(flat, name, (headers as Record<string, unknown>)[name])) return null
  }
  return flat
}

function addHeader (flat: string[], name: unknown, value: unknown): boolean {
  if (typeof name !== 'string' || typeof value !== 'string' || !TOKEN.test(name) || !PLAIN_VALUE.test(value)) return false
  flat.push(name.toLowerCase(), value)
  return true
}

function hasName (flat: string[], name: string): boolean {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) return true
  return false
}
