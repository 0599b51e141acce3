// The IETF RateLimit header fields, draft-ietf-httpapi-ratelimit-headers-10:
// `RateLimit-Policy: "name";q=10;w=1` (the policies, stable across responses)
// and `RateLimit: "name";r=0;t=1` (what is left now), both Structured Field
// Lists (RFC 9651) of Strings with parameters. Seconds are whole: a window is
// rounded up to the next second (a 500 ms window is advertised as w=1, the
// draft has no sub-second windows), and so are `t` and Retry-After, with the
// same rounding, so Retry-After never points earlier than `t`.

/** Registered quota units; absent means "requests". */
export type QuotaUnit = 'requests' | 'content-bytes' | 'concurrent-requests'

export interface QuotaPolicyItem {
  /** The policy's name: the item's value, escaped as an sf-string. */
  name: string
  /** `q`: the quota per window. */
  quota: number
  /** `w`, in ms; absent: no window advertised (a concurrency limit has none). */
  windowMs?: number
  unit?: QuotaUnit
  /** `pk`: the partition key, sent as a Byte Sequence. Never raw personal data: a truncated HMAC of the caller, say. */
  partitionKey?: Uint8Array
}

// sf-integer has at most 15 digits.
const MAX_SF_INTEGER = 999_999_999_999_999
const PLAIN_SF_STRING = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/

/**
 * `value` as an sf-string: `"` and `\` escaped with `\`. Characters an
 * sf-string cannot hold (controls, non-ASCII) are percent-encoded as UTF-8
 * (`é` → `%C3%A9`) rather than dropped, so names stay distinct.
 */
export function sfString (value: string): string {
  if (PLAIN_SF_STRING.test(value)) return `"${value}"`
  let out = '"'
  for (const char of value) {
    const code = char.codePointAt(0) ?? 0
    if (char === '"' || char === '\\') out += '\\' + char
    else if (code >= 0x20 && code <= 0x7e) out += char
    else out += percentEncoded(char)
  }
  return out + '"'
}

/** A window as the draft's `w`: whole seconds, rounded up, at least 1. */
export function windowSeconds (windowMs: number): number {
  return Math.min(MAX_SF_INTEGER, Math.max(1, Math.ceil(windowMs / 1000)))
}

/** Ms as delay-seconds (`t`): whole seconds, rounded up, never negative. */
export function delaySeconds (ms: number): number {
  if (!(ms > 0)) return 0
  return Math.min(MAX_SF_INTEGER, Math.ceil(ms / 1000))
}

/**
 * The Retry-After of a refused request that may pass again in `waitMs`:
 * delay-seconds rounded up as `t` is, and at least 1 so that a refusal never
 * invites an immediate retry.
 */
export function retryAfterSeconds (waitMs: number): number {
  return Math.max(1, delaySeconds(waitMs))
}

/**
 * One policy compiled once: its `RateLimit-Policy` item, and the start of its
 * `RateLimit` item, so a response's header is a few concatenations.
 */
export class RateLimitHeaderItem {
  /** `"name";q=10;w=1`. */
  readonly policy: string
  private readonly prefix: string
  // The last item made: under a flood every refusal has r=0 and the same t, so it is one string.
  private lastRemaining = -1
  private lastReset = -1
  private lastItem = ''

  constructor (item: QuotaPolicyItem) {
    const name = sfString(item.name)
    let policy = `${name};q=${sfInteger(item.quota)}`
    if (item.unit !== undefined && item.unit !== 'requests') policy += `;qu=${sfString(item.unit)}`
    if (item.windowMs !== undefined) policy += `;w=${windowSeconds(item.windowMs)}`
    if (item.partitionKey !== undefined) policy += `;pk=${sfBinary(item.partitionKey)}`
    this.policy = policy
    this.prefix = `${name};r=`
  }

  /** `"name";r=0;t=1`: `t` is left out when nothing more is coming (resetMs 0: the quota is whole). */
  serviceLimit (remaining: number, resetMs: number, partitionKey?: Uint8Array): string {
    const r = sfInteger(remaining)
    const t = resetMs > 0 ? delaySeconds(resetMs) : 0
    if (partitionKey === undefined && r === this.lastRemaining && t === this.lastReset) return this.lastItem
    let item = this.prefix + r
    if (t > 0) item += ';t=' + t
    if (partitionKey !== undefined) {
      item += ';pk=' + sfBinary(partitionKey)
      return item
    }
    this.lastRemaining = r
    this.lastReset = t
    this.lastItem = item
    return item
  }
}

/** A `RateLimit-Policy` field value for several policies. */
export function formatRateLimitPolicy (items: readonly QuotaPolicyItem[]): string {
  return items.map((item) => new RateLimitHeaderItem(item).policy).join(', ')
}

/** A `RateLimit` field value for one policy (compile a RateLimitHeaderItem for the hot path). */
export function formatRateLimit (name: string, remaining: number, resetMs: number): string {
  return new RateLimitHeaderItem({ name, quota: 0 }).serviceLimit(remaining, resetMs)
}

function sfInteger (n: number): number {
  if (!(n > 0)) return 0
  return Math.min(MAX_SF_INTEGER, Math.floor(n))
}

function sfBinary (bytes: Uint8Array): string {
  return `:${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}:`
}

function percentEncoded (char: string): string {
  try {
    return encodeURIComponent(char)
  } catch {
    // A lone surrogate has no UTF-8 form.
    return '%EF%BF%BD'
  }
}
