// Regular expressions for quantities within bounds ("100ms" to "15m", "16Mi" to
// "8Gi"), so that the JSON Schema editors read can reject an out-of-range
// duration or memory size as the platform does, with a pattern alone.

/** A pattern (unanchored, one group) for the decimal integers from lo to hi (hi may be Infinity), leading zeros allowed. */
export function integerRangePattern (lo: number, hi: number): string {
  if (!Number.isInteger(lo) || lo < 0 || !(hi >= lo)) throw new RangeError(`no integers from ${lo} to ${hi}`)
  const parts: string[] = []
  const top = hi === Infinity ? 10 ** digits(lo) - 1 : hi
  for (let d = digits(lo); d <= digits(top); d++) {
    const from = Math.max(lo, d === 1 ? 0 : 10 ** (d - 1))
    const to = Math.min(top, 10 ** d - 1)
    if (from <= to) parts.push(sameLength(String(from), String(to)))
  }
  // Every number with more digits than lo is larger than it.
  if (hi === Infinity) parts.push(`[1-9]\\d{${digits(lo)},}`)
  return `0*(?:${parts.join('|')})`
}

/** The pattern of a quantity `<integer><unit>` whose size, in the smallest unit, lies within [min, max]. */
export function quantityRangePattern (units: Record<string, number>, min: number, max: number): string {
  const alternatives: string[] = []
  for (const [unit, size] of Object.entries(units)) {
    const lo = Math.max(1, Math.ceil(min / size))
    const hi = max === Infinity ? Infinity : Math.floor(max / size)
    if (lo <= hi) alternatives.push(`${integerRangePattern(lo, hi)}${unit}`)
  }
  return `^(?:${alternatives.join('|')})$`
}

function digits (n: number): number {
  return String(n).length
}

// Digit strings of one length: a common first digit, then the rest; or the ends and a middle of whole decades.
function sameLength (a: string, b: string): string {
  if (a === b) return a
  if (a.length === 1) return charRange(a, b)
  const rest = a.length - 1
  if (a[0] === b[0]) return `${a[0]}(?:${sameLength(a.slice(1), b.slice(1))})`
  const parts: string[] = []
  let first = Number(a[0])
  let last = Number(b[0])
  if (!/^0*$/.test(a.slice(1))) {
    parts.push(`${a[0]}(?:${sameLength(a.slice(1), '9'.repeat(rest))})`)
    first++
  }
  const lastWhole = /^9*$/.test(b.slice(1))
  if (!lastWhole) last--
  if (first <= last) parts.push(`${charRange(String(first), String(last))}\\d{${rest}}`)
  if (!lastWhole) parts.push(`${b[0]}(?:${sameLength('0'.repeat(rest), b.slice(1))})`)
  return parts.join('|')
}

function charRange (a: string, b: string): string {
  return a === b ? a : `[${a}-${b}]`
}
