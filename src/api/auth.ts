import { ForbiddenError, UnauthorizedError } from '../errors/index.js'
import type { Store } from '../store/index.js'

/** Who a request acts as: a namespace, or '*' for the platform's admin. */
export interface Caller {
  tokenId: string
  namespace: string
}

const BEARER = /^Bearer\s+(\S+)$/i

export function authenticate (store: Store, authorization: string | undefined): Caller {
  if (authorization === undefined) {
    throw new UnauthorizedError('this API needs a bearer token', { hint: 'the CLI sends the token that `roost up` wrote to $ROOST_HOME/config; with curl pass -H "Authorization: Bearer <token>"' })
  }
  const match = BEARER.exec(authorization)
  const found = match === null ? undefined : store.lookupToken(match[1])
  if (found === undefined) {
    throw new UnauthorizedError('the bearer token is not known to this platform', { hint: 'check ROOST_HOME points at the platform you mean, or ask its admin for a token' })
  }
  return { tokenId: found.id, namespace: found.namespace }
}

export function authorize (caller: Caller, namespace: string): void {
  if (caller.namespace === '*' || caller.namespace === namespace) return
  throw new ForbiddenError(`this token may act on namespace ${caller.namespace} only, not on ${namespace}`, { hint: 'use a token of that namespace, or the admin token' })
}

export function requireAdmin (caller: Caller): void {
  if (caller.namespace !== '*') throw new ForbiddenError('only the admin token may do this', { hint: 'use the token `roost up` wrote to $ROOST_HOME/config' })
}

const AUTHORIZATION_LINE = /\r\nauthorization:[ \t]*bearer[ \t]+(\S+)[ \t]*\r\n/i

/** Whether a raw request head (the first bytes of a connection) carries the admin token. */
export function isAdminRequest (store: Store, head: string): boolean {
  const token = AUTHORIZATION_LINE.exec(head)?.[1]
  return token !== undefined && store.lookupToken(token)?.namespace === '*'
}
