// Rewrites a response's Location back under the route's prefix, as nginx's
// default proxy_redirect does: the function sees its paths with the prefix
// stripped, so a redirect it builds from its own URL would leave the function.
//
// The rule: a path-absolute Location (`/echo`, not `//host/…`), or an absolute
// `http(s)://` one whose host is the request's Host, gets the prefix put back
// before its path (`/echo` → `/fn/NAME/echo`), unless its path already starts
// with the prefix (at a `/`, `?`, `#` or its end). Anything else (other hosts,
// relative references such as `echo` or `../x`) is passed on unchanged.

export function rewriteLocation (location: string, prefix: string, host: string | undefined): string {
  if (location.charCodeAt(0) === 47 /* / */) {
    if (location.charCodeAt(1) === 47) return location
    return underPrefix(location, prefix) ? location : prefix + location
  }
  if (host === undefined) return location
  const authority = authorityEnd(location)
  if (authority < 0) return location
  const start = location.indexOf('//') + 2
  if (location.slice(start, authority).toLowerCase() !== host.toLowerCase()) return location
  const path = authority === location.length ? '/' : location.slice(authority)
  if (path.charCodeAt(0) !== 47) return location.slice(0, authority) + prefix + '/' + path
  return underPrefix(path, prefix) ? location : location.slice(0, authority) + prefix + path
}

/** Where the authority of an `http://` or `https://` URL ends; -1 for anything else. */
function authorityEnd (location: string): number {
  let start: number
  if (startsWithIgnoringCase(location, 'http://')) start = 7
  else if (startsWithIgnoringCase(location, 'https://')) start = 8
  else return -1
  for (let i = start; i < location.length; i++) {
    const c = location.charCodeAt(i)
    if (c === 47 || c === 63 || c === 35) return i
  }
  return location.length
}

function underPrefix (path: string, prefix: string): boolean {
  if (!path.startsWith(prefix)) return false
  if (path.length === prefix.length) return true
  const c = path.charCodeAt(prefix.length)
  return c === 47 || c === 63 || c === 35
}

function startsWithIgnoringCase (text: string, start: string): boolean {
  return text.length >= start.length && text.slice(0, start.length).toLowerCase() === start
}
