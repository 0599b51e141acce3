import { ConflictError, ValidationError } from '../errors/index.js'
import type { RouteReservation, Store } from '../store/index.js'
import { DNS_LABEL_PATTERN, HTTP_PATH_PATTERN, RESERVED_HTTP_PATHS, type FunctionSpec } from './function-schema.js'

// A path belongs to one namespace. The gateway routes a request to the longest
// matching `spec.http.path`, segment by segment: a function at /hello/login
// takes the /hello/login requests of /hello's users, headers and cookies
// included. So a path equal to, under or above a path of another namespace
// (a function's or a reservation's) is a conflict; within a namespace nesting
// is its owner's choice.

const PATH = new RegExp(HTTP_PATH_PATTERN)
const NAME = new RegExp(DNS_LABEL_PATTERN)
const FIELD = 'spec.http.path'

/** Whether one path is the other or lies under it, by whole segments (/hello and /hellox do not). */
export function pathsOverlap (a: string, b: string): boolean {
  if (a === b) return true
  const [short, long] = a.length < b.length ? [a, b] : [b, a]
  return long.startsWith(short) && long.charCodeAt(short.length) === 47 /* / */
}

/**
 * Refuses a function's route that another function owns; runs in the apply's
 * transaction. Routes on two different named hosts never meet; a route without
 * a host answers on every host, so it meets routes on any host.
 */
export function checkRouteIsFree (store: Store, owner: { namespace: string, name: string }, path: string | undefined, host?: string): void {
  if (path === undefined && host === undefined) return
  if (path !== undefined) {
    const reserved = reservationOver(store, path, owner.namespace)
    if (reserved !== undefined) {
      throw new ConflictError(`spec.http.path ${path} ${relation(path, reserved.prefix)} reserved for namespace ${reserved.namespace}`, {
        field: FIELD,
        hint: 'the admin reserved that prefix (`roost reserve --list` shows reservations); choose a path outside it'
      })
    }
  }
  for (const other of store.listResources<FunctionSpec>('Function')) {
    if (other.namespace === owner.namespace && other.name === owner.name) continue
    const theirs = other.spec.http?.path
    const theirHost = other.spec.http?.host
    if (host !== undefined && theirHost !== undefined && host !== theirHost) continue
    if (path === undefined || theirs === undefined) {
      if (path === undefined && theirs === undefined && host === theirHost) {
        throw new ConflictError(`spec.http.host ${host ?? ''} is already routed to function ${other.name} in namespace ${other.namespace}`, {
          field: 'spec.http.host',
          hint: 'choose another host, or give the function a path on it'
        })
      }
      continue
    }
    const sameRoute = theirs === path && host === theirHost
    if (other.namespace === owner.namespace ? sameRoute : pathsOverlap(theirs, path)) {
      const route = host === undefined ? `spec.http.path ${path}` : `spec.http.host ${host} with path ${path}`
      throw new ConflictError(`${route} ${relation(path, theirs)} routed to function ${other.name} in namespace ${other.namespace}`, {
        field: FIELD,
        hint: other.namespace === owner.namespace
          ? 'choose another path, or remove it from the other function first'
          : 'a path, everything under it and everything above it belong to one namespace: choose a path outside it'
      })
    }
  }
}

/**
 * Reserves a prefix for a namespace, refused when another namespace already
 * routes or holds a reservation at, under or above it. Runs in one transaction.
 */
export function reserveRoute (store: Store, prefix: string, namespace: string): { reservation: RouteReservation, changed: boolean } {
  checkReservationInput(prefix, namespace)
  return store.transaction(() => {
    const other = reservationOver(store, prefix, namespace)
    if (other !== undefined) {
      throw new ConflictError(`prefix ${prefix} overlaps ${other.prefix}, reserved for namespace ${other.namespace}`, {
        field: 'prefix',
        hint: `release it first with \`roost reserve --delete ${other.prefix}\``
      })
    }
    for (const fn of store.listResources<FunctionSpec>('Function')) {
      const path = fn.spec.http?.path
      if (fn.namespace !== namespace && path !== undefined && pathsOverlap(path, prefix)) {
        throw new ConflictError(`prefix ${prefix} overlaps ${path}, routed to function ${fn.name} in namespace ${fn.namespace}`, {
          field: 'prefix',
          hint: 'move or delete that function first, or reserve a prefix that does not overlap it'
        })
      }
    }
    return store.reserveRoute(prefix, namespace)
  })
}

export function checkReservationInput (prefix: unknown, namespace: unknown): void {
  const problems = []
  if (typeof prefix !== 'string' || prefix.length > 256 || !PATH.test(prefix)) {
    problems.push({ field: 'prefix', message: `expected a path such as /team-a: "/" and segments of letters, digits, ".", "_", "~" and "-", without a trailing "/", got ${JSON.stringify(prefix)}` })
  } else if (RESERVED_HTTP_PATHS.some((p) => pathsOverlap(p, prefix))) {
    problems.push({ field: 'prefix', message: `${prefix} is the gateway's own (${RESERVED_HTTP_PATHS.join(', ')})` })
  }
  if (typeof namespace !== 'string' || namespace.length > 63 || !NAME.test(namespace)) {
    problems.push({ field: 'namespace', message: `expected a namespace (a DNS label), got ${JSON.stringify(namespace)}` })
  }
  if (problems.length > 0) throw new ValidationError(problems)
}

function reservationOver (store: Store, path: string, namespace: string): RouteReservation | undefined {
  return store.listRouteReservations().find((r) => r.namespace !== namespace && pathsOverlap(r.prefix, path))
}

function relation (path: string, theirs: string): string {
  if (path === theirs) return 'is already'
  return path.length > theirs.length ? `is under ${theirs},` : `is above ${theirs},`
}
