// Header names are case-insensitive ASCII (RFC 9110 §5.1), and node's
// rawHeaders keep them as the caller spelled them. Comparing char codes with
// the case bit folded spares a lower-cased copy of every name a per-request
// lookup looks at.

const LOWER_A = 97
const LOWER_Z = 122
const CASE_BIT = 0x20

/** Whether `name` is `lower` in any letter case; `lower` must be lower case. */
export function isHeaderName (name: string, lower: string): boolean {
  const length = lower.length
  if (name.length !== length) return false
  for (let i = 0; i < length; i++) {
    const c = name.charCodeAt(i)
    const l = lower.charCodeAt(i)
    if (c === l) continue
    // Only a letter may differ, and only by its case bit: '-' | 0x20 is '-', but so is CR | 0x20.
    if (l < LOWER_A || l > LOWER_Z || (c | CASE_BIT) !== l) return false
  }
  return true
}
