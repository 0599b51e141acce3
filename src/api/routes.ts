import type { FastifyInstance } from 'fastify'
import { registerEventRoutes } from './event-routes.js'
import { registerInvocationRoutes } from './invocation-routes.js'
import { registerKeyRoutes } from './key-routes.js'
import type { RouteDeps } from './live-functions.js'
import { registerNamespaceRoutes } from './namespace-routes.js'
import { registerRuleRoutes } from './rule-routes.js'
import { registerSecretRoutes } from './secret-routes.js'
import { registerTokenRoutes } from './token-routes.js'
import { registerWatchRoutes } from './watch-routes.js'

/** The routes beside server.ts's own: namespaces, tokens, events, the watch feed, secrets, API keys, governance rules and async invocations. */
export function registerRoutes (app: FastifyInstance, deps: RouteDeps): void {
  registerNamespaceRoutes(app, deps)
  registerTokenRoutes(app, deps)
  registerEventRoutes(app, deps)
  registerWatchRoutes(app, deps)
  registerSecretRoutes(app, deps)
  registerKeyRoutes(app, deps)
  registerRuleRoutes(app, deps)
  registerInvocationRoutes(app, deps)
}
