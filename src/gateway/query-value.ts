// A query parameter's value as URLSearchParams.get reads it (the first pair
// of that name, `+` and percent-escapes decoded), found by scanning the URL in
// place: a keyed limit or a lane asks for one parameter per request, and a
// URLSearchParams would split and decode the whole query to answer.

const PERCENT = 37
const PLUS = 43
const QUESTION = 63
const LAST_ASCII = 0x7e

/** The first value of parameter `name` in `url`'s query, or undefined when it has none. */
export function queryValue (url: string, name: string): string | undefined {
  const query = url.indexOf('?')
  if (query === -1) return undefined
  const end = url.length
  let start = query + 1
  // URLSearchParams drops one leading `?` of its input, so `/p??a=1` has `a`.
  if (url.charCodeAt(start) === QUESTION) start++
  while (start <= end) {
    let amp = url.indexOf('&', start)
    if (amp === -1) amp = end
    if (amp > start) {
      let eq = url.indexOf('=', start)
      if (eq === -1 || eq > amp) eq = amp
      // A name with escapes may decode to `name`: only the full parse can tell.
      if (!isPlain(url, start, eq)) return parsedQueryValue(url, query, name)
      if (eq - start === name.length && url.startsWith(name, start)) {
        const from = eq === amp ? amp : eq + 1
        return isPlain(url, from, amp) ? url.slice(from, amp) : parsedQueryValue(url, query, name)
      }
    }
    start = amp + 1
  }
  return undefined
}

/** Whether url[from, to) decodes to itself: no `%`, no `+`, nothing past ASCII (which the parse round-trips through UTF-8). */
function isPlain (url: string, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const c = url.charCodeAt(i)
    if (c === PERCENT || c === PLUS || c > LAST_ASCII) return false
  }
  return true
}

function parsedQueryValue (url: string, query: number, name: string): string | undefined {
  return new URLSearchParams(url.slice(query + 1)).get(name) ?? undefined
}
