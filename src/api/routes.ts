import type { FastifyInstance } from 'fastify'
import type { Store } from '../store/index.js'
import { registerEventRoutes } from './event-routes.js'
import type { LiveFunctions } from './live-functions.js'
import { registerNamespaceRoutes } from './namespace-routes.js'
import { registerTokenRoutes } from './token-routes.js'
import { registerWatchRoutes } from './watch-routes.js'

export interface RouteDeps {
  store: Store
  live: LiveFunctions
}

/** The routes beside server.ts's own: namespaces, tokens, events and the watch feed. */
export function registerRoutes (app: FastifyInstance, deps: RouteDeps): void {
  registerNamespaceRoutes(app, deps)
  registerTokenRoutes(app, deps)
  registerEventRoutes(app, deps)
  registerWatchRoutes(app, deps)
}
