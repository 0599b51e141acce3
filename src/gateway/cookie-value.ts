// A cookie's value from a Cookie header, found by scanning the header in
// place: lanes ask for one or two cookies per request, and splitting the
// header into a map of every cookie would allocate for all of them. Parts are
// split on `;`, a part without `=` (or starting with it) is skipped, names
// and values are trimmed as String.prototype.trim trims, and the first part
// of a name wins.

const SEMICOLON = 59
const EQUALS = 61

/** The first value of cookie `name` in `header`, or undefined. */
export function cookieValue (header: string | undefined, name: string): string | undefined {
  if (header === undefined) return undefined
  const end = header.length
  let start = 0
  while (start <= end) {
    let semicolon = header.indexOf(';', start)
    if (semicolon === -1) semicolon = end
    const eq = indexIn(header, EQUALS, start, semicolon)
    if (eq > start) {
      let from = start
      let to = eq
      while (from < to && isTrimmed(header.charCodeAt(from))) from++
      while (to > from && isTrimmed(header.charCodeAt(to - 1))) to--
      if (to - from === name.length && header.startsWith(name, from)) return header.slice(eq + 1, semicolon).trim()
    }
    start = semicolon + 1
  }
  return undefined
}

function indexIn (text: string, code: number, from: number, to: number): number {
  for (let i = from; i < to; i++) if (text.charCodeAt(i) === code) return i
  return -1
}

/** What String.prototype.trim removes: WhiteSpace and LineTerminator (ECMA-262 §12.2, §12.3). */
function isTrimmed (c: number): boolean {
  if (c <= 0x20) return c === 0x20 || (c >= 0x09 && c <= 0x0d)
  if (c < 0xa0) return false
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff
}
