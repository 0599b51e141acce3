// What the gateway reads of an async call (`/async/<route>`): how long the
// caller waits for the result, where the result goes, and the request as it
// is stored for its delivery later (docs/event-delivery.md).

/** `?wait=` and `Prefer: wait=` wait at most this long, as OpenWhisk's blocking invocations do; a longer ask is cut to it. */
export const MAX_WAIT_MS = 60_000
const MAX_CALLBACK_URL_LENGTH = 2048
const WAIT_VALUE = /^(\d{1,7})(ms|s|m)?$/
const PREFER_WAIT = /(?:^|[,;\s])wait\s*=\s*"?(\d{1,7})"?/i

/**
 * Headers never stored with an async invocation: those the gateway sets on
 * the delivery itself, hop-by-hop ones, the call's own controls (wait,
 * callback), and the body framing the delivery has again.
 */
const NOT_STORED = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'expect', 'host', 'content-length',
  'x-request-id', 'x-roost-deadline', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-prefix',
  'x-roost-caller', 'x-roost-lane', 'x-roost-call', 'x-roost-event', 'x-roost-event-token', 'x-roost-call-id',
  'x-callback-url', 'prefer'
])
/** Credentials the function's caller check read: the record keeps who called (x-roost-caller), not the secret that proved it. */
const CREDENTIALS = new Set(['authorization', 'x-api-key', 'webhook-id', 'webhook-timestamp', 'webhook-signature'])

export type Parsed<T> = { ok: true, value: T } | { ok: false, field: string, message: string }

/** The wait asked for, in ms (0: none), from `?wait=5s|500ms|2m|5` (bare: seconds) or `Prefer: wait=5` (seconds, RFC 7240). */
export function waitOf (url: string, prefer: string | undefined): Parsed<number> {
  const query = queryValue(url, 'wait')
  if (query !== undefined) {
    const match = WAIT_VALUE.exec(query)
    if (match === null) return { ok: false, field: 'wait', message: `?wait= takes a duration such as 5s, 500ms or 1m (at most ${MAX_WAIT_MS / 1000}s), got ${JSON.stringify(query)}` }
    const unit = match[2] === 'ms' ? 1 : match[2] === 'm' ? 60_000 : 1000
    return { ok: true, value: Math.min(MAX_WAIT_MS, Number(match[1]) * unit) }
  }
  if (prefer !== undefined) {
    const match = PREFER_WAIT.exec(prefer)
    if (match !== null) return { ok: true, value: Math.min(MAX_WAIT_MS, Number(match[1]) * 1000) }
  }
  return { ok: true, value: 0 }
}

/** `X-Callback-Url`: an absolute http(s) URL, or absent. */
export function callbackUrlOf (value: string | undefined): Parsed<string | undefined> {
  if (value === undefined) return { ok: true, value: undefined }
  const field = 'x-callback-url'
  if (value.length > MAX_CALLBACK_URL_LENGTH) return { ok: false, field, message: `X-Callback-Url is at most ${MAX_CALLBACK_URL_LENGTH} characters` }
  let url: URL
  try {
    url = new URL(value)
  } catch {
    return { ok: false, field, message: `X-Callback-Url must be an absolute URL, got ${JSON.stringify(value.slice(0, 200))}` }
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return { ok: false, field, message: `X-Callback-Url must be http or https, got ${url.protocol}` }
  return { ok: true, value: url.href }
}

/** The path the function is given, without the `wait` of the async call (the function never asked for it). */
export function withoutWait (path: string): string {
  const q = path.indexOf('?')
  if (q < 0) return path
  const kept = path.slice(q + 1).split('&').filter((pair) => pair !== 'wait' && !pair.startsWith('wait='))
  return kept.length === 0 ? path.slice(0, q) : `${path.slice(0, q)}?${kept.join('&')}`
}

/** The request's headers as stored: in order, repeats kept, less NOT_STORED and (for a function that checks callers) the credentials. */
export function storedHeaders (raw: readonly string[], checksCallers: boolean): Array<[string, string]> {
  const out: Array<[string, string]> = []
  for (let i = 0; i < raw.length; i += 2) {
    const lower = (raw[i] as string).toLowerCase()
    if (NOT_STORED.has(lower) || (checksCallers && CREDENTIALS.has(lower))) continue
    out.push([raw[i] as string, raw[i + 1] as string])
  }
  return out
}

function queryValue (url: string, name: string): string | undefined {
  const q = url.indexOf('?')
  if (q < 0) return undefined
  for (const pair of url.slice(q + 1).split('&')) {
    const eq = pair.indexOf('=')
    const key = eq < 0 ? pair : pair.slice(0, eq)
    if (key === name) return eq < 0 ? '' : decoded(pair.slice(eq + 1))
  }
  return undefined
}

// A bad escape is left as it is: the value is refused as not a duration then.
function decoded (value: string): string {
  try {
    return decodeURIComponent(value)
  } catch {
    return value
  }
}
