import type { FastifyInstance } from 'fastify'
import { ForbiddenError, NotFoundError } from '../errors/index.js'
import type { TokenInfo } from '../store/index.js'
import type { Caller } from './auth.js'
import type { RouteDeps } from './live-functions.js'
import { callerOf, checkedNamespace } from './route-params.js'

// Listing and revoking API tokens (creating one is in server.ts). The admin
// sees every token; a namespace token sees, and may revoke, those of its own
// namespace only. No token may revoke itself if it is an admin token: the
// platform would be left without a way in until `roost up` mints another.

const PREFIX = '/apis/roost.dev/v1'

export interface TokenView {
  id: string
  /** '*' for an admin token. */
  namespace: string
  description: string | null
  createdAt: string
  /** It is the token of this request. */
  current: boolean
}

export function registerTokenRoutes (app: FastifyInstance, { store }: RouteDeps): void {
  app.get(`${PREFIX}/tokens`, async (request) => {
    const caller = callerOf(request)
    return { items: store.listTokens().filter((token) => visible(caller, token)).map((token) => view(caller, token)) }
  })

  app.get<{ Params: { namespace: string } }>(`${PREFIX}/namespaces/:namespace/tokens`, async (request) => {
    const caller = callerOf(request)
    const namespace = checkedNamespace(request, request.params.namespace)
    return { items: store.listTokens().filter((token) => token.namespace === namespace).map((token) => view(caller, token)) }
  })

  app.delete<{ Params: { id: string } }>(`${PREFIX}/tokens/:id`, async (request) => {
    const caller = callerOf(request)
    const id = request.params.id
    const token = store.listTokens().find((t) => t.id === id)
    // A token of another namespace is reported as absent: its id says nothing to this caller.
    if (token === undefined || !visible(caller, token)) throw new NotFoundError(`token ${id} not found`, { hint: '`roost token list` shows the ids of the tokens you may see' })
    if (token.namespace === '*' && token.id === caller.tokenId) {
      throw new ForbiddenError('the admin token cannot revoke itself', { hint: 'the CLI would lose its way in; revoke other tokens, or stop roost and remove $ROOST_HOME/config to have `roost up` mint a new admin token' })
    }
    store.deleteToken(id)
    return { result: 'revoked', id, namespace: token.namespace }
  })
}

function visible (caller: Caller, token: TokenInfo): boolean {
  return caller.namespace === '*' || token.namespace === caller.namespace
}

function view (caller: Caller, token: TokenInfo): TokenView {
  return { id: token.id, namespace: token.namespace, description: token.description ?? null, createdAt: token.createdAt, current: token.id === caller.tokenId }
}
