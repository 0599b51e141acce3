import type { FastifyInstance } from 'fastify'
import { registerEventRoutes } from './event-routes.js'
import { registerInvocationRoutes } from './invocation-routes.js'
import { registerQueueRoutes } from './queue-routes.js'
import { registerKeyRoutes } from './key-routes.js'
import type { RouteDeps } from './live-functions.js'
import { registerNamespaceRoutes } from './namespace-routes.js'
import { registerRuleRoutes } from './rule-routes.js'
import { registerSecretRoutes } from './secret-routes.js'
import { registerTokenRoutes } from './token-routes.js'
import { registerWatchRoutes } from './watch-routes.js'

/** The routes beside server.ts's own: namespaces, tokens, events, the watch feed, secrets, API keys, governance rules, async invocations, queues and triggers. */
export function registerRoutes (app: FastifyInstance, deps: RouteDeps): void {
  registerNamespaceRoutes(app, deps)
  registerTokenRoutes(app, deps)
  registerEventRoutes(app, deps)
  registerWatchRoutes(app, deps)
  registerSecretRoutes(app, deps)
  registerKeyRoutes(app, deps)
  registerRuleRoutes(app, deps)
  registerInvocationRoutes(app, deps)
  registerQueueRoutes(app, { store: deps.store, events: deps.events, published: (namespace, queue) => deps.live.queuePublished?.(namespace, queue), brokers: deps.live.brokerQueues })
}
