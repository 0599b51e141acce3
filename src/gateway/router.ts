export interface RouteEntry<T> {
  name: string
  namespace: string
  /** `spec.http.path` prefixes, besides /fn/<name> and /fn/<name>.<namespace>. */
  paths: string[]
  /** With a host, `paths` (or every path, when there are none) answer on this host only. */
  host?: string
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
  // Host routes (`spec.http.host`): per host, its prefixes longest first; '' takes every path.
  private readonly byHost = new Map<string, Array<{ prefix: string, value: T }>>()

  constructor (entries: Array<RouteEntry<T>>) {
    for (const entry of entries) {
      this.byName.set(`${entry.name}.${entry.namespace}`, entry.value)
      if (entry.namespace === 'default') this.byName.set(entry.name, entry.value)
      const target = entry.host === undefined ? this.byPath : this.hostRoutes(entry.host)
      for (const prefix of entry.host !== undefined && entry.paths.length === 0 ? [''] : entry.paths) target.push({ prefix, value: entry.value })
    }
    this.byPath.sort((a, b) => b.prefix.length - a.prefix.length)
    for (const routes of this.byHost.values()) routes.sort((a, b) => b.prefix.length - a.prefix.length)
  }

  /** Whether any route depends on the Host header: without, the gateway need not read it. */
  get hasHosts (): boolean {
    return this.byHost.size > 0
  }

  /** A request on a host that has host routes goes to them first; the other routes answer on every host. */
  match (url: string, host?: string): RouteMatch<T> | null {
    if (host !== undefined && this.byHost.size > 0) {
      const routes = this.byHost.get(hostName(host))
      const found = routes === undefined ? null : matchPrefix(routes, url)
      if (found !== null) return found
    }
    if (url.startsWith(FN_PREFIX)) return this.matchFunctionPath(url)
    return matchPrefix(this.byPath, url)
  }

  private hostRoutes (host: string): Array<{ prefix: string, value: T }> {
    let routes = this.byHost.get(host)
    if (routes === undefined) this.byHost.set(host, routes = [])
    return routes
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

function matchPrefix<T> (routes: Array<{ prefix: string, value: T }>, url: string): RouteMatch<T> | null {
  for (const route of routes) {
    if (route.prefix === '') return { fn: route.value, path: url, prefix: '' }
    if (url.startsWith(route.prefix) && isBoundary(url, route.prefix.length)) {
      return { fn: route.value, path: rest(url, route.prefix.length), prefix: route.prefix }
    }
  }
  return null
}

/** `API.Example.com:8080` → `api.example.com`; `[::1]:80` → `[::1]`. */
function hostName (host: string): string {
  const colon = host.lastIndexOf(':')
  const name = colon > host.lastIndexOf(']') ? host.slice(0, colon) : host
  return name.toLowerCase()
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
