// Short latin1 strings in and out of buffers, for the heads of the hot path.
//
// `buf.write(text, at, 'latin1')` and `buf.toString('latin1', …)` each cross
// into C++ (an API call with its handle scope and encoding lookup), which for
// the few bytes of a header name or value costs more than the copy itself: a
// request through the gateway made about twenty such calls. Strings up to
// SHORT bytes are copied in JavaScript instead, and the ones read are taken
// from a small table of strings seen before, since names and most values
// repeat from request to request (host, content-type, user-agent): no new
// string, no new hash, less for the scavenger.

/** Strings this long or shorter are copied in JavaScript and remembered. */
const SHORT = 64
/** Slots of the table of strings read before (a power of two). */
const SLOTS = 2048
const seen: string[] = new Array<string>(SLOTS).fill('')

/**
 * Writes `text` (latin1: one byte per character, as node hands header values
 * over) at `at`; returns the number of bytes written. The caller made room.
 */
export function writeLatin1 (buf: Uint8Array, at: number, text: string): number {
  const length = text.length
  if (length > SHORT) return (buf as Buffer).write(text, at, 'latin1')
  // A Uint8Array store keeps the low byte, as node's latin1 encoding does.
  for (let i = 0; i < length; i++) buf[at + i] = text.charCodeAt(i)
  return length
}

/** The latin1 string of `buf[start, end)`, the same string object as last time when it was seen before. */
export function readLatin1 (buf: Buffer, start: number, end: number): string {
  const length = end - start
  if (length === 0) return ''
  if (length > SHORT) return buf.toString('latin1', start, end)
  const slot = slotOf(buf, start, length)
  const known = seen[slot]
  if (known.length === length && sameBytes(known, buf, start)) return known
  const text = buf.toString('latin1', start, end)
  seen[slot] = text
  return text
}

function slotOf (buf: Buffer, start: number, length: number): number {
  // Length, both ends and the middle: names differ there, and values of one name (hosts, ports, types) mostly do too.
  const last = start + length - 1
  let h = length * 0x9e3779b1
  h = Math.imul(h ^ buf[start], 0x85ebca6b)
  h = Math.imul(h ^ buf[last], 0xc2b2ae35)
  h = Math.imul(h ^ buf[start + (length >> 1)], 0x27d4eb2f)
  h ^= buf[last - 1 >= start ? last - 1 : start] << 8
  return (h ^ (h >>> 15)) & (SLOTS - 1)
}

function sameBytes (text: string, buf: Buffer, start: number): boolean {
  for (let i = text.length - 1; i >= 0; i--) if (text.charCodeAt(i) !== buf[start + i]) return false
  return true
}
