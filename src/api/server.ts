import type { ServerResponse } from 'node:http'
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify'
import { BadRequestError, BrokerUnavailableError, ForbiddenError, isRoostError, NotFoundError, PayloadTooLargeError, QueueFullError, RoostError, ValidationError, type ProblemDetails } from '../errors/index.js'
import type { EventStore } from '../events/index.js'
import type { LogLine, Store } from '../store/index.js'
import { brokerAllowlist, checkBrokerClaim, storedBrokerUrls } from './broker-allowlist.js'
import { applyFunction, type ApplyBody } from './apply-function.js'
import { authenticate, authorize, isAdminRequest, requireAdmin, type Caller } from './auth.js'
import { answerClientError, DEFAULT_CLIENT_TIMEOUTS, timeoutOptions, type ClientTimeouts } from './client-timeouts.js'
import { DEFAULT_CONNECTION_CAPS, guardConnections, type ConnectionCaps } from './connection-guard.js'
import { dryRunAnswer, dryRunQuery } from './dry-run.js'
import { deleteKeysOf } from './key-routes.js'
import { registerRoutes } from './routes.js'
import { DNS_LABEL_PATTERN, DURATION_PATTERN, type FunctionSpec } from './function-schema.js'
import { viewFunction, type FunctionLive, type InstanceSummary, type IsolationView, type StartFailure, type VersionScaling } from './function-view.js'
import type { BrokerQueues } from './broker-queues.js'
import { openApiDocument } from './openapi.js'
import { parseDuration } from './quantities.js'
import { checkReservationInput, reserveRoute } from './route-ownership.js'
import { publicVersionConfig, type VersionConfig } from './version-config.js'

import type { FunctionGovernanceState } from '../gateway/index.js'

/** What the API needs to know of the running platform, without knowing processes. */
export interface LiveView {
  instances (): InstanceSummary[]
  /** The traffic routed now, which lags the spec while a new version comes up. */
  serving (namespace: string, name: string): Array<{ version: number, percent: number, tag?: string }> | undefined
  /** Why a version cannot start, if its last start failed and it has no ready instance. */
  startFailure? (namespace: string, name: string, version: number): StartFailure | undefined
  /** The autoscaler's view of a version, if it scales it. */
  scaling (namespace: string, name: string, version: number): VersionScaling | undefined
  /** The isolation a namespace's instances run under. */
  isolation? (namespace: string): IsolationView
  /** The live state of the function's governance rules (limiter fill, breaker state and why), as of the gateway's last report. */
  governance? (namespace: string, name: string): FunctionGovernanceState | undefined
  /** Resolves once the data plane routes what the store holds now (bounded; never rejects). */
  settle? (): Promise<void>
  /** Records were published or replayed into a queue: the dispatcher delivers them now. */
  queuePublished? (namespace: string, queue: string): void
  /** The queues brokers hold (broker triggers), with their conditions. */
  brokerQueues?: BrokerQueues
  /** Prometheus text of the whole platform. */
  metrics (): Promise<string>
  /** Subscribes to log lines as they are stored; returns the unsubscribe function. */
  onLogs (listener: (lines: LogLine[]) => void): () => void
}

export interface ApiServerOptions {
  store: Store
  live: LiveView
  /** The events database: async invocations (GET/DELETE …/invocations/ID); without it those routes answer 503. */
  events?: EventStore
  /** Largest API request body (manifests with their bundles), in bytes. */
  bodyLimit?: number
  /** Caps on open connections (default 1024 in all, 128 per client address); over a cap: 503 and closed. */
  connections?: Partial<ConnectionCaps>
  /** Deadlines for slow clients (default: headers in 10 s, the whole request in 60 s). */
  timeouts?: Partial<ClientTimeouts>
  /** Broker URLs a namespace token's triggers may name (scheme, host and port count); the admin token may name any. */
  allowedBrokers?: readonly string[]
}

declare module 'fastify' {
  interface FastifyRequest {
    caller: Caller
  }
}

const PREFIX = '/apis/roost.dev/v1'
const NAME = new RegExp(DNS_LABEL_PATTERN)
const DURATION = new RegExp(DURATION_PATTERN)
// /metrics is public as on the gateway, so that Prometheus scrapes it without a token.
const PUBLIC_PATHS = new Set(['/healthz', '/openapi.json', '/metrics'])
// How long a refused request body may keep arriving before the connection is closed.
const LINGER_MS = 5_000
// How long requests in flight get to finish once the API closes.
const CLOSE_GRACE_MS = 2_000

type NamespaceParams = { namespace: string }
type FunctionParams = { namespace: string, name: string }

/** The REST API: resources in, problem+json errors out. */
export async function createApiServer (options: ApiServerOptions): Promise<FastifyInstance> {
  // Loaded here, not at the top: the CLI imports this part for validation and
  // must not pay for the server on every command.
  const { default: Fastify } = await import('fastify')
  const { store, live } = options
  const allowedBrokers = brokerAllowlist(options.allowedBrokers ?? [])
  const timeouts = { ...DEFAULT_CLIENT_TIMEOUTS, ...options.timeouts }
  const app = Fastify({
    bodyLimit: options.bodyLimit ?? 64 * 1024 * 1024,
    logger: false,
    ...timeoutOptions(timeouts),
    clientErrorHandler: answerClientError(timeouts)
  })
  // Slow or many connections of one client must not lock the admin out: over
  // the caps, a connection whose first bytes carry the admin token still comes in.
  guardConnections(app.server, { ...DEFAULT_CONNECTION_CAPS, ...options.connections }, 'the API', (head) => isAdminRequest(store, head))
  // Open `logs -f` streams. close() waits for every connection, so they end when it begins,
  // and a client that neither finishes nor reads gets CLOSE_GRACE_MS before it is cut off:
  // neither may hold the platform's stop for the keep-alive timeout, or for ever.
  const follows = new Set<ServerResponse>()
  app.addHook('preClose', (done) => {
    for (const res of follows) res.end(() => res.socket?.destroy())
    setTimeout(() => app.server.closeAllConnections(), CLOSE_GRACE_MS).unref()
    done()
  })
  app.decorateRequest('caller', null as unknown as Caller)

  app.addHook('onRequest', async (request) => {
    if (PUBLIC_PATHS.has(request.url)) return
    request.caller = authenticate(store, request.headers.authorization)
  })

  app.setErrorHandler((err, request, reply) => {
    if ((err as { code?: string }).code === 'FST_ERR_CTP_BODY_TOO_LARGE') lingerOnRefusedBody(request, reply)
    sendError(reply, toRoostError(err))
  })
  app.setNotFoundHandler((request, reply) => {
    sendError(reply, new NotFoundError(`no API route ${request.method} ${request.url.split('?')[0]}`, { hint: 'GET /openapi.json lists the routes' }))
  })

  app.get('/healthz', async () => ({ status: 'ok' }))
  app.get('/metrics', async (_request, reply) => {
    reply.type('text/plain; version=0.0.4; charset=utf-8')
    return live.metrics()
  })
  app.get('/openapi.json', async () => openApiDocument())

  app.get(`${PREFIX}/functions`, async (request) => {
    const caller = request.caller
    const items = store.listResources<FunctionSpec>('Function')
      .filter((fn) => caller.namespace === '*' || fn.namespace === caller.namespace)
    return { items: viewAll(items) }
  })

  app.get<{ Params: NamespaceParams }>(`${PREFIX}/namespaces/:namespace/functions`, async (request) => {
    const { namespace } = checkedParams<NamespaceParams>(request)
    return { items: viewAll(store.listResources<FunctionSpec>('Function', namespace)) }
  })

  app.put<{ Params: FunctionParams, Body: ApplyBody, Querystring: { dryRun?: string } }>(`${PREFIX}/namespaces/:namespace/functions/:name`, async (request, reply) => {
    const { namespace, name } = checkedParams<FunctionParams>(request)
    const body = objectBody(request.body)
    const dryRun = dryRunQuery(request.query.dryRun)
    checkHostClaim(request.caller, namespace, name, body)
    if (request.caller.namespace !== '*') checkBrokerClaim(body.manifest, allowedBrokers, storedBrokerUrls(store.getResource<FunctionSpec>('Function', namespace, name)?.spec))
    const result = await applyFunction(store, { namespace, name }, body as unknown as ApplyBody, { dryRun })
    reply.code(result.outcome === 'created' ? 201 : 200)
    if (dryRun) return dryRunAnswer(result)
    await live.settle?.()
    return { result: result.outcome, version: result.version.number, newVersion: result.newVersion, function: viewOne(namespace, name) }
  })

  app.get<{ Params: FunctionParams }>(`${PREFIX}/namespaces/:namespace/functions/:name`, async (request) => {
    const { namespace, name } = checkedParams<FunctionParams>(request)
    return viewOne(namespace, name)
  })

  app.delete<{ Params: FunctionParams }>(`${PREFIX}/namespaces/:namespace/functions/:name`, async (request) => {
    const { namespace, name } = checkedParams<FunctionParams>(request)
    store.transaction(() => {
      if (!store.deleteResource('Function', namespace, name)) throw notFound(namespace, name)
      store.deleteVersions(namespace, name)
      store.deleteLogs(namespace, name)
      deleteKeysOf(store, namespace, name)
    })
    await live.settle?.()
    return { result: 'deleted', name, namespace }
  })

  app.get<{ Params: FunctionParams }>(`${PREFIX}/namespaces/:namespace/functions/:name/versions`, async (request) => {
    const { namespace, name } = checkedParams<FunctionParams>(request)
    const fn = mustGet(namespace, name)
    const view = viewFunction(fn, versionsOf(namespace, name), live.instances(), liveOf(namespace, name))
    const percent = new Map(view.status.traffic.map((t) => [t.version, t]))
    return {
      items: versionsOf(namespace, name).map((version) => ({
        number: version.number,
        name: `v${version.number}`,
        bundleHash: version.bundleHash,
        config: publicVersionConfig(version.config),
        createdAt: version.createdAt,
        traffic: percent.get(version.number)?.percent ?? 0,
        tag: percent.get(version.number)?.tag ?? null
      }))
    }
  })

  app.post<{ Params: FunctionParams, Body: { to?: unknown } }>(`${PREFIX}/namespaces/:namespace/functions/:name/rollback`, async (request) => {
    const { namespace, name } = checkedParams<FunctionParams>(request)
    const body = request.body === undefined || request.body === null ? {} : objectBody(request.body)
    const answer = rollback(namespace, name, body.to)
    await live.settle?.()
    return answer
  })

  app.get<{ Params: FunctionParams, Querystring: { limit?: string } }>(`${PREFIX}/namespaces/:namespace/functions/:name/events`, async (request) => {
    const { namespace, name } = checkedParams<FunctionParams>(request)
    mustGet(namespace, name)
    return { items: store.listEvents({ namespace, kind: 'Function', name, limit: intQuery(request.query.limit, 'limit', 50) }) }
  })

  app.get<{ Params: FunctionParams, Querystring: { since?: string, afterId?: string, limit?: string, follow?: string } }>(
    `${PREFIX}/namespaces/:namespace/functions/:name/logs`,
    async (request, reply) => {
      const { namespace, name } = checkedParams<FunctionParams>(request)
      mustGet(namespace, name)
      const query = request.query
      const sinceMs = query.since === undefined ? undefined : Date.now() - durationQuery(query.since, 'since')
      const lines = store.queryLogs({ namespace, function: name, sinceMs, afterId: intQuery(query.afterId, 'afterId', 0) || undefined, limit: intQuery(query.limit, 'limit', 1000) })
      if (query.follow !== 'true' && query.follow !== '1') return { items: lines }
      followLogs(request, reply, namespace, name, lines)
    }
  )

  app.get<{ Querystring: { namespace?: string } }>(`${PREFIX}/instances`, async (request) => {
    const caller = request.caller
    const namespace = request.query.namespace
    if (namespace !== undefined) authorize(caller, namespace)
    const items = live.instances().filter((i) =>
      (namespace === undefined || i.namespace === namespace) && (caller.namespace === '*' || i.namespace === caller.namespace))
    return { items }
  })

  app.post<{ Params: NamespaceParams, Body: { description?: unknown } }>(`${PREFIX}/namespaces/:namespace/tokens`, async (request, reply) => {
    requireAdmin(request.caller)
    const { namespace } = checkedParams<NamespaceParams>(request)
    const description = typeof request.body?.description === 'string' ? request.body.description : undefined
    const created = store.createToken({ namespace, description })
    reply.code(201)
    return { id: created.id, namespace, token: created.token }
  })

  // Path prefixes reserved for a namespace. Anyone with a token may read them
  // (a refused apply names the owner anyway); only the admin changes them.
  app.get(`${PREFIX}/route-reservations`, async () => ({ items: store.listRouteReservations() }))

  app.put<{ Body: { prefix?: unknown, namespace?: unknown } }>(`${PREFIX}/route-reservations`, async (request, reply) => {
    requireAdmin(request.caller)
    const body = objectBody(request.body)
    checkReservationInput(body.prefix, body.namespace)
    const { reservation, changed } = reserveRoute(store, body.prefix as string, body.namespace as string)
    reply.code(changed ? 201 : 200)
    return { result: changed ? 'reserved' : 'unchanged', reservation }
  })

  app.delete<{ Querystring: { prefix?: string } }>(`${PREFIX}/route-reservations`, async (request) => {
    requireAdmin(request.caller)
    const prefix = request.query.prefix
    if (typeof prefix !== 'string') throw new ValidationError([{ field: 'prefix', message: 'required: DELETE /route-reservations?prefix=/the/prefix' }])
    if (!store.releaseRoute(prefix)) throw new NotFoundError(`no reservation of ${prefix}`, { hint: '`roost reserve --list` shows the reservations' })
    return { result: 'released', prefix }
  })

  registerRoutes(app, { store, live, events: options.events })

  function viewAll (items: Array<ReturnType<typeof store.listResources<FunctionSpec>>[number]>): unknown[] {
    const instances = live.instances()
    return items.map((fn) => viewFunction(fn, versionsOf(fn.namespace, fn.name), instances, liveOf(fn.namespace, fn.name)))
  }

  function viewOne (namespace: string, name: string): unknown {
    return viewFunction(mustGet(namespace, name), versionsOf(namespace, name), live.instances(), liveOf(namespace, name))
  }

  function liveOf (namespace: string, name: string): FunctionLive {
    const brokers = live.brokerQueues?.statuses().filter((b) => b.namespace === namespace && b.function === name)
    return {
      scaling: (v) => live.scaling(namespace, name, v), serving: live.serving(namespace, name), startFailure: (v) => live.startFailure?.(namespace, name, v), isolation: live.isolation?.(namespace),
      ...(brokers === undefined ? {} : { brokers })
    }
  }

  function versionsOf (namespace: string, name: string): Array<ReturnType<typeof store.listVersions<VersionConfig>>[number]> {
    return store.listVersions<VersionConfig>(namespace, name)
  }

  function mustGet (namespace: string, name: string): NonNullable<ReturnType<typeof store.getResource<FunctionSpec>>> {
    const fn = store.getResource<FunctionSpec>('Function', namespace, name)
    if (fn === undefined) throw notFound(namespace, name)
    return fn
  }

  /**
   * A custom domain takes every request for its host, the /fn/ routes of other
   * namespaces included: only the admin gives one to a function (or keeps the
   * one it already has), or a namespace could take the traffic of a host others use.
   */
  function checkHostClaim (caller: Caller, namespace: string, name: string, body: Record<string, unknown>): void {
    if (caller.namespace === '*') return
    const manifest = body.manifest as { spec?: { http?: { host?: unknown } } } | undefined
    const host = manifest?.spec?.http?.host
    if (host === undefined) return
    const stored = store.getResource<FunctionSpec>('Function', namespace, name)
    if (stored?.spec.http?.host === host) return
    throw new ForbiddenError('only the admin token may give a function spec.http.host: a custom domain takes every request for that host', {
      field: 'spec.http.host',
      hint: 'ask the platform\'s admin to apply the host; the function\'s paths need no admin'
    })
  }

  function rollback (namespace: string, name: string, to: unknown): unknown {
    return store.transaction(() => {
      const fn = mustGet(namespace, name)
      const versions = versionsOf(namespace, name)
      const view = viewFunction(fn, versions, [])
      const current = view.status.traffic.reduce((a, b) => (b.percent > a.percent ? b : a)).version
      let target: number
      if (to === undefined) {
        const earlier = versions.filter((v) => v.number < current)
        if (earlier.length === 0) throw new BadRequestError(`v${current} is the first version of ${name}: there is nothing to roll back to`, { hint: 'apply a new version instead' })
        target = earlier[earlier.length - 1].number
      } else {
        target = parseVersion(to)
        if (!versions.some((v) => v.number === target)) {
          throw new NotFoundError(`${name} has no version v${target}`, { field: 'to', hint: `\`roost get versions ${name}\` lists them` })
        }
      }
      const spec: FunctionSpec = { ...fn.spec, traffic: [{ version: target, percent: 100 }] }
      store.putResource<FunctionSpec>('Function', namespace, name, { spec, labels: fn.labels })
      store.recordEvent({ namespace, kind: 'Function', name, type: 'Normal', reason: 'RolledBack', message: `traffic moved from v${current} to v${target}` })
      return { result: 'rolled back', from: current, to: target, function: viewOne(namespace, name) }
    })
  }

  function followLogs (request: FastifyRequest, reply: FastifyReply, namespace: string, name: string, backlog: LogLine[]): void {
    reply.hijack()
    const res = reply.raw
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-store' })
    for (const line of backlog) res.write(JSON.stringify(line) + '\n')
    const unsubscribe = live.onLogs((lines) => {
      for (const line of lines) {
        if (line.namespace === namespace && line.function === name) res.write(JSON.stringify(line) + '\n')
      }
    })
    // Keeps proxies and the CLI from thinking the stream died while the function is quiet.
    const heartbeat = setInterval(() => res.write('\n'), 15_000)
    follows.add(res)
    request.raw.on('close', () => {
      clearInterval(heartbeat)
      unsubscribe()
      follows.delete(res)
    })
  }

  return app
}

/**
 * Fastify answers a body over the limit with `Connection: close` and closes the socket at
 * once, unread bytes and all: a client still sending then gets a reset (EPIPE) instead of
 * the 413. As nginx's lingering close does, keep the connection so node reads and discards
 * the rest of the body, and close it only if the body has not ended after LINGER_MS.
 */
function lingerOnRefusedBody (request: FastifyRequest, reply: FastifyReply): void {
  const req = request.raw
  if (req.complete) return
  reply.removeHeader('connection')
  setTimeout(() => { if (!req.complete) req.socket.destroy() }, LINGER_MS).unref()
}

function checkedParams<P extends NamespaceParams> (request: FastifyRequest): P {
  const params = request.params as P & Partial<FunctionParams>
  checkName(params.namespace, 'namespace')
  authorize(request.caller, params.namespace)
  if (params.name !== undefined) checkName(params.name, 'name')
  return params
}

function checkName (value: string, field: string): void {
  if (value.length > 63 || !NAME.test(value)) {
    throw new ValidationError([{ field, message: `"${value}" is not a valid ${field}: use lower-case letters, digits and "-" (a DNS label, at most 63 characters)` }])
  }
}

function objectBody (body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    throw new BadRequestError('the request body must be a JSON object', { hint: 'send Content-Type: application/json with an object body' })
  }
  return body as Record<string, unknown>
}

function parseVersion (value: unknown): number {
  const text = typeof value === 'number' ? String(value) : typeof value === 'string' ? value.replace(/^v/, '') : ''
  const number = Number(text)
  if (!Number.isInteger(number) || number < 1) throw new ValidationError([{ field: 'to', message: `expected a version such as v3 or 3, got ${JSON.stringify(value)}` }])
  return number
}

function intQuery (value: string | undefined, field: string, fallback: number): number {
  if (value === undefined) return fallback
  const number = Number(value)
  if (!Number.isInteger(number) || number < 0) throw new ValidationError([{ field, message: `expected a whole number, got "${value}"` }])
  return number
}

function durationQuery (value: string, field: string): number {
  if (!DURATION.test(value)) throw new ValidationError([{ field, message: `expected a duration such as "5m" or "30s", got "${value}"` }])
  return parseDuration(value)
}

function notFound (namespace: string, name: string): NotFoundError {
  return new NotFoundError(`function ${name} not found in namespace ${namespace}`, { hint: '`roost get functions` lists what exists' })
}

function toRoostError (err: unknown): RoostError {
  if (isRoostError(err)) return err
  const fastifyError = err as { code?: string, statusCode?: number, message?: string }
  if (fastifyError.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new PayloadTooLargeError('the request body is larger than the API accepts', { hint: 'a bundle is limited to 64 MiB' })
  }
  if (fastifyError.statusCode !== undefined && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return new BadRequestError(fastifyError.message ?? 'bad request', { hint: 'send a JSON object with Content-Type: application/json' })
  }
  return new RoostError(`internal error: ${fastifyError.message ?? String(err)}`, { hint: 'this is a bug in Roost; the platform log has details', cause: err })
}

function sendError (reply: FastifyReply, err: RoostError): void {
  const problem: ProblemDetails = err.toProblem()
  // RFC 9110 §11.6.1: a 401 names the scheme that would succeed.
  if (err.status === 401) reply.header('www-authenticate', 'Bearer realm="roost"')
  // A full queue says when to come back rather than have publishers hammer it.
  if (err instanceof QueueFullError || err instanceof BrokerUnavailableError) reply.header('retry-after', String(err.retryAfterSeconds))
  reply.code(err.status).type('application/problem+json').send(problem)
}
