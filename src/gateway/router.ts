export interface RouteEntry<T> {
  name: string
  namespace: string
  /** `spec.http.path` prefixes, besides /fn/<name> and /fn/<name>.<namespace>. */
  paths: string[]
  value: T
}

export interface RouteMatch<T> {
  fn: T
  /** The path and query the function sees: what follows the route's prefix. */
  path: string
  /** The part of the path the route consumed, passed on as x-forwarded-prefix. */
  prefix: string
}

const FN_PREFIX = '/fn/'

/**
 * Maps a request URL to a function: `/fn/<name>[.<namespace>]/rest` and each
 * function's own `spec.http.path`. Built once per routing table; matching does
 * a map lookup and, for custom paths, a scan of prefixes longest first.
 */
export class Router<T> {
  private readonly byName = new Map<string, T>()
  private readonly byPath: Array<{ prefix: string, value: T }> = []

  constructor (entries: Array<RouteEntry<T>>) {
    for (const entry of entries) {
      this.byName.set(`${entry.name}.${entry.namespace}`, entry.value)
      if (entry.namespace === 'default') this.byName.set(entry.name, entry.value)
      for (const prefix of entry.paths) this.byPath.push({ prefix, value: entry.value })
    }
    this.byPath.sort((a, b) => b.prefix.length - a.prefix.length)
  }

  match (url: string): RouteMatch<T> | null {
    if (url.startsWith(FN_PREFIX)) return this.matchFunctionPath(url)
    for (const route of this.byPath) {
      if (url.startsWith(route.prefix) && isBoundary(url, route.prefix.length)) {
        return { fn: route.value, path: rest(url, route.prefix.length), prefix: route.prefix }
      }
    }
    return null
  }

  private matchFunctionPath (url: string): RouteMatch<T> | null {
    let end = FN_PREFIX.length
    while (end < url.length) {
      const c = url.charCodeAt(end)
      if (c === 47 /* / */ || c === 63 /* ? */) break
      end++
    }
    const value = this.byName.get(url.slice(FN_PREFIX.length, end))
    if (value === undefined) return null
    return { fn: value, path: rest(url, end), prefix: url.slice(0, end) }
  }
}

function isBoundary (url: string, index: number): boolean {
  if (index === url.length) return true
  const c = url.charCodeAt(index)
  return c === 47 || c === 63
}

function rest (url: string, index: number): string {
  if (index === url.length) return '/'
  return url.charCodeAt(index) === 63 ? '/' + url.slice(index) : url.slice(index)
}
