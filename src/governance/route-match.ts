// A rule's target as written, `/foo`, `GET:/foo` or `/api/*` (Sentinel's
// METHOD:path resource names, which the OpenSergo control plane's samples use),
// to the RouteMatch the gateway reads.

import { show, type Report } from './durations.js'
import type { RouteMatch } from './policy.js'

const TARGET = /^(?:([A-Za-z]+):)?(\/[^\s?#]*)$/
const MAX_TARGET_LENGTH = 1024

export function parseRoute (value: unknown, field: string, report: Report): RouteMatch | undefined {
  const match = typeof value === 'string' && value.length <= MAX_TARGET_LENGTH ? TARGET.exec(value) : null
  if (match === null) {
    report(field, `expected a path such as "/foo", a method and a path such as "GET:/foo", or a prefix such as "/api/*", got ${show(value)}`)
    return undefined
  }
  const [, method, path] = match as unknown as [string, string | undefined, string]
  if (path.includes('*') && !(path.endsWith('/*') && path.indexOf('*') === path.length - 1)) {
    report(field, `${show(value)}: "*" may only end a path, as "/api/*" (every path under /api/)`)
    return undefined
  }
  return method === undefined ? { path } : { method: method.toUpperCase(), path }
}

/** `GET:/foo` again, for ids and messages. */
export function formatRoute (route: RouteMatch): string {
  return route.method === undefined ? route.path : `${route.method}:${route.path}`
}
