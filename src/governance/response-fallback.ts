// A provided response as a fallback: its status, body and headers checked the
// way the gateway will send them. A header value must not carry CR or LF (it
// would split the response), and the headers that frame the message are the
// gateway's to set, not a rule's.

import { GOVERNANCE_BOUNDS } from './defaults.js'
import { show, type Report } from './durations.js'
import type { Fallback } from './policy.js'

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const FRAMING = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'upgrade', 'te', 'trailer'])

export function responseFallback (
  response: { status: number | undefined, body: string | undefined, headers: Array<{ name: unknown, value: unknown, field: string }> },
  field: { status: string, body: string },
  defaultStatus: number,
  report: Report
): Fallback | undefined {
  let ok = true
  const status = response.status ?? defaultStatus
  if (!Number.isInteger(status) || status < 200 || status > 599) {
    report(field.status, `expected an HTTP status from 200 to 599, got ${show(status)}`)
    ok = false
  }
  const body = response.body ?? ''
  if (Buffer.byteLength(body) > GOVERNANCE_BOUNDS.bodyBytes) {
    report(field.body, `a fallback body is at most ${GOVERNANCE_BOUNDS.bodyBytes} bytes`)
    ok = false
  }
  if (response.headers.length > GOVERNANCE_BOUNDS.headers) {
    report(response.headers[GOVERNANCE_BOUNDS.headers]?.field ?? field.body, `a fallback has at most ${GOVERNANCE_BOUNDS.headers} headers`)
    ok = false
  }
  const headers: Array<[string, string]> = []
  for (const { name, value, field: at } of response.headers) {
    if (typeof name !== 'string' || !TOKEN.test(name)) {
      report(at, `${show(name)} is not a header name: use letters, digits and !#$%&'*+.^_\`|~-`)
      ok = false
    } else if (FRAMING.has(name.toLowerCase())) {
      report(at, `${name} frames the message: the gateway sets it, a fallback may not`)
      ok = false
    } else if (typeof value !== 'string' || /[\r\n\0]/.test(value) || value.length > GOVERNANCE_BOUNDS.headerValueLength) {
      report(at, `the value of ${name} must be text of at most ${GOVERNANCE_BOUNDS.headerValueLength} characters without line breaks`)
      ok = false
    } else {
      headers.push([name, value])
    }
  }
  return ok ? { kind: 'response', status, body, headers } : undefined
}
