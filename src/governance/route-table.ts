// Which rules apply to a request: each rule names routes (`RouteMatch`: an
// exact path, or a prefix ending in `/*`, with an optional method) or none (every
// route). The table is compiled once per routing table into precomputed
// answers: an exact path is one map lookup, any other path a scan of the
// prefixes longest first; the answer is a shared frozen array, so a match
// allocates nothing. Prefixes match on a segment boundary: `/foo/*` matches
// `/foo`, `/foo/` and `/foo/bar`, not `/foobar`; `/*` matches every path.
// The query string, if the path carries one, is not part of the match.

import type { RouteMatch } from './policy.js'

export interface RouteTableEntry<T> {
  /** Empty: every request. */
  routes: readonly RouteMatch[]
  value: T
}

// A path's answers per method: the methods some route names, then every other method.
interface Answers<T> {
  byMethod: Map<string, readonly T[]>
  other: readonly T[]
}

interface CompiledRoute {
  entry: number
  method: string | undefined
  exact: string | undefined
  prefix: string | undefined
}

export class RouteTable<T> {
  private readonly exact = new Map<string, Answers<T>>()
  private readonly prefixes: Array<{ prefix: string, answers: Answers<T> }> = []
  private readonly rest: Answers<T>

  constructor (entries: ReadonlyArray<RouteTableEntry<T>>) {
    const routes = compileRoutes(entries)
    const methods = [...new Set(routes.flatMap((route) => route.method === undefined ? [] : [route.method]))]
    const answersFor = (matches: (route: CompiledRoute) => boolean): Answers<T> => answers(entries, routes, methods, matches)
    for (const path of new Set(routes.flatMap((route) => route.exact === undefined ? [] : [route.exact]))) {
      this.exact.set(path, answersFor((route) => route.exact === path || (route.prefix !== undefined && underPrefix(path, route.prefix))))
    }
    const prefixes = [...new Set(routes.flatMap((route) => route.prefix === undefined || route.prefix === '' ? [] : [route.prefix]))]
    prefixes.sort((a, b) => b.length - a.length)
    for (const prefix of prefixes) {
      // The prefixes that match a path all lie on one chain, the longest under the others: its answers hold them all.
      this.prefixes.push({ prefix, answers: answersFor((route) => route.prefix !== undefined && underPrefix(prefix, route.prefix)) })
    }
    this.rest = answersFor(() => false)
  }

  /** The values of the entries that apply to a request, in the order given. */
  match (method: string, path: string): readonly T[] {
    const query = path.indexOf('?')
    const bare = query === -1 ? path : path.slice(0, query)
    const answers = this.exact.get(bare) ?? this.longestPrefix(bare) ?? this.rest
    return answers.byMethod.get(method) ?? answers.other
  }

  private longestPrefix (path: string): Answers<T> | undefined {
    for (const { prefix, answers } of this.prefixes) if (underPrefix(path, prefix)) return answers
    return undefined
  }
}

/** Whether one route applies to a request (for describe and tests; the table is the hot path). */
export function routeMatches (route: RouteMatch, method: string, path: string): boolean {
  if (route.method !== undefined && route.method !== method) return false
  const query = path.indexOf('?')
  const bare = query === -1 ? path : path.slice(0, query)
  const prefix = prefixOf(route.path)
  return prefix === undefined ? bare === route.path : underPrefix(bare, prefix)
}

function compileRoutes<T> (entries: ReadonlyArray<RouteTableEntry<T>>): CompiledRoute[] {
  const routes: CompiledRoute[] = []
  entries.forEach((entry, index) => {
    const list = entry.routes.length === 0 ? [{ path: '/*' }] : entry.routes
    for (const route of list) {
      const prefix = prefixOf(route.path)
      routes.push({ entry: index, method: route.method?.toUpperCase(), exact: prefix === undefined ? route.path : undefined, prefix })
    }
  })
  return routes
}

function answers<T> (entries: ReadonlyArray<RouteTableEntry<T>>, routes: CompiledRoute[], methods: string[], pathMatches: (route: CompiledRoute) => boolean): Answers<T> {
  const valuesFor = (method: string | undefined): readonly T[] => {
    const hit = new Set<number>()
    for (const route of routes) {
      const methodOk = route.method === undefined || route.method === method
      if (methodOk && (route.prefix === '' || pathMatches(route))) hit.add(route.entry)
    }
    return Object.freeze(entries.flatMap((entry, index) => hit.has(index) ? [entry.value] : []))
  }
  const byMethod = new Map<string, readonly T[]>()
  for (const method of methods) byMethod.set(method, valuesFor(method))
  return { byMethod, other: valuesFor(undefined) }
}

/** `/foo/*` → `/foo`, `/*` → `` (every path); an exact path → undefined. */
function prefixOf (path: string): string | undefined {
  return path.endsWith('/*') ? path.slice(0, -2) : undefined
}

function underPrefix (path: string, prefix: string): boolean {
  if (prefix === '') return true
  if (!path.startsWith(prefix)) return false
  return path.length === prefix.length || path.charCodeAt(prefix.length) === 47 /* / */
}
