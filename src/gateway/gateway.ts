import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import type { Dispatcher } from 'undici'
import { Call, CallState, type CallOwner } from './call.js'
import { EXPOSITION_CONTENT_TYPE, joinExpositions, renderGatewayMetrics } from './exposition.js'
import { sendProblem } from './problem.js'
import { PendingAnswers } from './pending-answers.js'
import { Router } from './router.js'
import { TrafficSplit } from './traffic-split.js'
import { UpstreamInstance } from './upstream-instance.js'
import { VersionState } from './version-state.js'
import type { GatewayMetricsReport, GatewayOptions, GatewayReport, InstanceMetrics, RoutedFunction, RoutingTable, VersionMetrics } from './routing-table.js'

// The request headers the gateway sets itself or that describe the caller's
// connection rather than the request; dropped before forwarding.
const DROPPED_REQUEST_HEADERS = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer',
  'x-request-id', 'x-roost-deadline', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-prefix'
])
// Only names of these lengths need the lower-casing below.
const INSPECTED_HEADER_LENGTHS = new Set([...DROPPED_REQUEST_HEADERS, 'host'].map((name) => name.length))
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/
const SWEEP_INTERVAL_MS = 50
const DEMAND_INTERVAL_MS = 250
const MAX_CONNECT_ATTEMPTS = 3
const LINGER_MS = 5_000
const METRICS_INTERVAL_MS = 1_000
/** How long GET /metrics waits for the control plane's part before answering without it. */
const SCRAPE_TIMEOUT_MS = 2_000
const enum Reserved { None, Health, Metrics }

interface FunctionState {
  fn: RoutedFunction
  split: TrafficSplit<VersionState>
}

/**
 * The data plane: routes each request to a function version and an instance,
 * holds requests no instance can take yet, enforces timeouts and body limits.
 * It serves from the routing table in memory and never waits on the store.
 */
export class Gateway implements CallOwner {
  private readonly server: Server
  private router = new Router<FunctionState>([])
  private versions = new Map<string, VersionState>()
  /** Versions no longer routed that still have requests in flight. */
  private readonly retired = new Map<string, VersionState>()
  private instances = new Map<string, UpstreamInstance>()
  private readonly sweeper: NodeJS.Timeout
  private readonly reporter: NodeJS.Timeout | null = null
  /** performance.now() when the current metrics interval began. */
  private metricsFrom = performance.now()
  private readonly scrapes = new PendingAnswers<string>(SCRAPE_TIMEOUT_MS, '')
  private readonly requestIdPrefix = randomBytes(4).toString('hex')
  private requestSequence = 0

  constructor (private readonly options: GatewayOptions, private readonly report: (message: GatewayReport) => void) {
    this.server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 }, this.handle)
    this.sweeper = setInterval(this.sweep, SWEEP_INTERVAL_MS)
    this.sweeper.unref()
    const interval = options.metricsIntervalMs ?? METRICS_INTERVAL_MS
    if (interval > 0) {
      this.reporter = setInterval(() => this.report(this.collectMetrics()), interval)
      this.reporter.unref()
    }
  }

  listen (): Promise<{ host: string, port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject)
      this.server.listen(this.options.port, this.options.host, () => {
        this.server.off('error', reject)
        const address = this.server.address()
        resolve({ host: this.options.host, port: typeof address === 'object' && address !== null ? address.port : this.options.port })
      })
    })
  }

  async close (): Promise<void> {
    clearInterval(this.sweeper)
    if (this.reporter !== null) clearInterval(this.reporter)
    this.scrapes.abandon()
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
    for (const instance of this.instances.values()) instance.close()
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/'
    const reserved = reservedPath(url)
    if (reserved !== Reserved.None) {
      if (reserved === Reserved.Health) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
      else this.serveMetrics(req, res)
      return
    }
    const match = this.router.match(url, this.router.hasHosts ? req.headers.host : undefined)
    if (match === null) {
      sendProblem(res, 404, 'ROOST_E_ROUTE_NOT_FOUND', `no function is routed at ${url.split('?')[0]}`, null)
      return
    }
    const state = match.fn
    const version = state.split.pick(req.headers['x-roost-tag'] as string | undefined)
    const requestId = this.requestIdFor(req)
    const arrivedAt = performance.now()
    // The timeout runs from arrival: reading the body and waiting for an instance count.
    const deadline = Date.now() + version.config.timeoutMs
    const options: Dispatcher.DispatchOptions = {
      path: match.path,
      method: req.method as Dispatcher.HttpMethod,
      headers: this.forwardHeaders(req, requestId, deadline, match.prefix),
      body: null
    }
    const length = req.headers['content-length']
    if (length === undefined && req.headers['transfer-encoding'] === undefined) {
      this.begin(req, res, version, options, requestId, deadline, arrivedAt, arrivedAt)
      return
    }
    if (length !== undefined && Number(length) > this.options.bodyLimit) {
      this.rejectTooLarge(req, res, requestId)
      return
    }
    this.readBody(req, res, version, options, requestId, deadline, arrivedAt)
  }

  private readBody (req: IncomingMessage, res: ServerResponse, version: VersionState, options: Dispatcher.DispatchOptions, requestId: string, deadline: number, arrivedAt: number): void {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > this.options.bodyLimit) {
        if (!res.headersSent) this.rejectTooLarge(req, res, requestId)
        return
      }
      chunks.push(chunk)
    })
    req.on('end', () => {
      if (size > this.options.bodyLimit) return
      options.body = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
      this.begin(req, res, version, options, requestId, deadline, arrivedAt, performance.now())
    })
    req.on('error', () => res.destroy())
  }

  private rejectTooLarge (req: IncomingMessage, res: ServerResponse, requestId: string): void {
    sendProblem(res, 413, 'ROOST_E_PAYLOAD_TOO_LARGE', `the request body is larger than the limit of ${this.options.bodyLimit} bytes`, requestId)
    // Closing with unread bytes would reset the connection under a client still
    // sending, and it would never see the 413: read and drop the rest, as nginx's
    // lingering close does, and cut off only a body that does not end in time.
    if (req.complete) return
    req.removeAllListeners('data')
    req.resume()
    setTimeout(() => { if (!req.complete) req.socket.destroy() }, LINGER_MS).unref()
  }

  /** Starts a request on its version; `now` is when it is ready to go (its body read). */
  private begin (req: IncomingMessage, res: ServerResponse, version: VersionState, options: Dispatcher.DispatchOptions, requestId: string, deadline: number, arrivedAt: number, now: number): void {
    const call = new Call(this, req, res, version, options, requestId, deadline, arrivedAt)
    version.stats.arrivals++
    version.link(call, now)
    this.dispatch(call, now)
  }

  private dispatch (call: Call, now: number): void {
    const version = call.version
    const instance = version.pick()
    if (instance !== null) {
      call.send(instance, now)
      return
    }
    if (!version.queue.push(call)) {
      this.finish(call, now)
      this.answered(call, 503, now)
      sendProblem(call.res, 503, 'ROOST_E_OVERLOADED', `${version.key} has ${version.queue.capacity} requests waiting already; retry shortly`, call.requestId, { 'retry-after': '1' })
      return
    }
    if (!version.hasReadyInstance()) {
      // A retry (attempts > 0) arrived while the version was warm.
      if (call.attempts === 0 && !call.cold) {
        call.cold = true
        version.stats.coldStarts++
      }
      this.demand(version)
    }
  }

  private demand (version: VersionState): void {
    const now = Date.now()
    if (now - version.lastDemandAt < DEMAND_INTERVAL_MS) return
    version.lastDemandAt = now
    this.report({ t: 'demand', versionKey: version.key })
  }

  /** Sends waiting requests to instances with free slots. */
  private pump (version: VersionState, now: number): void {
    while (version.queue.length > 0) {
      const instance = version.pick()
      if (instance === null) return
      const call = version.queue.shift()
      if (call === undefined) return
      if (call.res.destroyed) {
        // The caller left while it waited: no response, so no status to count.
        this.finish(call, now)
        continue
      }
      call.send(instance, now)
    }
  }

  private finish (call: Call, now: number): void {
    call.state = CallState.Done
    call.version.unlink(call, now)
    const instance = call.instance
    if (instance !== null) {
      instance.release(now)
      call.version.stats.inFlight--
      call.instance = null
    }
  }

  /** Counts the response a call was sent, `status` being the one the caller saw. */
  private answered (call: Call, status: number, now: number): void {
    call.status = status
    call.version.stats.completed(status, now - call.arrivedAt, call.cold)
  }

  onCallFinished (call: Call): void {
    const now = performance.now()
    this.finish(call, now)
    this.answered(call, call.status, now)
    if (call.version.queue.length > 0) this.pump(call.version, now)
  }

  onCallFailed (call: Call, err: Error & { code?: string }): void {
    const now = performance.now()
    const instance = call.instance
    this.finish(call, now)
    if (err.code === 'ECONNREFUSED' && call.attempts < MAX_CONNECT_ATTEMPTS && !call.res.headersSent) {
      // The request never reached the instance: safe to try another.
      if (instance !== null) instance.state = 'draining'
      call.state = CallState.Waiting
      call.version.link(call, now)
      this.dispatch(call, now)
      return
    }
    if (call.res.headersSent) {
      // The caller got the instance's status and a cut-off body.
      this.answered(call, call.status, now)
      call.res.destroy()
    } else {
      this.answered(call, 502, now)
      sendProblem(call.res, 502, 'ROOST_E_INSTANCE_CRASHED', `instance ${instance?.id ?? '?'} closed the connection before answering (it crashed or was killed, see \`roost describe function\`); it is being replaced`, call.requestId)
    }
    if (call.version.queue.length > 0) this.pump(call.version, now)
  }

  private readonly sweep = (): void => {
    const now = Date.now()
    for (const version of this.versions.values()) version.expire(now, this.expire)
    for (const [key, version] of this.retired) {
      version.expire(now, this.expire)
      if (!version.hasOpenCalls()) this.retired.delete(key)
    }
  }

  private readonly expire = (call: Call): void => {
    const now = performance.now()
    const instance = call.instance
    const wasSent = call.state === CallState.Sent
    call.abort()
    this.finish(call, now)
    // A response already under way is cut off: the caller saw its status.
    this.answered(call, call.res.headersSent ? call.status : 504, now)
    const seconds = call.version.config.timeoutMs / 1000
    if (wasSent && instance !== null) {
      this.report({ t: 'suspect', instanceId: instance.id })
      sendProblem(call.res, 504, 'ROOST_E_TIMEOUT', `the function did not answer within its timeout of ${seconds}s`, call.requestId)
      if (call.version.queue.length > 0) this.pump(call.version, now)
    } else {
      sendProblem(call.res, 504, 'ROOST_E_TIMEOUT', `no instance could take the request within the function's timeout of ${seconds}s`, call.requestId)
    }
  }

  /** Answers every request waiting for a version that cannot start. */
  startFailed (versionKey: string, reason: string): void {
    const version = this.versions.get(versionKey)
    if (version === undefined || version.hasReadyInstance()) return
    const now = performance.now()
    for (const call of version.queue.drain()) {
      this.finish(call, now)
      this.answered(call, 502, now)
      sendProblem(call.res, 502, 'ROOST_E_START_FAILED', `${versionKey} could not start: ${reason}`, call.requestId)
    }
  }

  applyTable (table: RoutingTable): void {
    const now = performance.now()
    const versions = new Map<string, VersionState>()
    const functions: FunctionState[] = []
    for (const fn of table.functions) {
      for (const config of fn.versions) {
        const existing = this.versions.get(config.key) ?? this.retired.get(config.key)
        if (existing !== undefined) existing.config = config
        versions.set(config.key, existing ?? new VersionState(config, now))
        this.retired.delete(config.key)
      }
      const split = new TrafficSplit(fn.traffic.map((target) => ({
        percent: target.percent,
        tag: target.tag,
        value: versions.get(`${fn.namespace}/${fn.name}@${target.version}`) as VersionState
      })))
      functions.push({ fn, split })
    }
    const previous = this.versions
    this.versions = versions
    this.router = new Router(functions.map((state) => ({ name: state.fn.name, namespace: state.fn.namespace, paths: state.fn.paths, host: state.fn.host, value: state })))
    this.applyInstances(table, now)
    for (const [key, version] of previous) {
      if (versions.has(key)) continue
      this.orphaned(version, now)
      // Requests still in flight on a version that left the table keep their timeout.
      if (version.hasOpenCalls()) this.retired.set(key, version)
    }
    for (const version of versions.values()) if (version.queue.length > 0) this.pump(version, now)
  }

  private applyInstances (table: RoutingTable, now: number): void {
    const instances = new Map<string, UpstreamInstance>()
    for (const routed of table.instances) {
      const version = this.versions.get(routed.versionKey)
      if (version === undefined) continue
      let instance = this.instances.get(routed.id)
      if (instance === undefined) instance = new UpstreamInstance(routed.id, routed.versionKey, routed.host, routed.port, version.config.concurrency, routed.state, now)
      // A draining instance finishes what it has and takes nothing new.
      else if (instance.state !== 'draining') instance.state = routed.state
      instances.set(routed.id, instance)
    }
    for (const [id, instance] of this.instances) if (!instances.has(id)) instance.close()
    this.instances = instances
    for (const version of this.versions.values()) version.instances = []
    for (const instance of instances.values()) this.versions.get(instance.versionKey)?.instances.push(instance)
  }

  /** Requests waiting for a version that left the table move to what the function routes to now. */
  private orphaned (version: VersionState, now: number): void {
    for (const call of version.queue.drain()) {
      version.unlink(call, now)
      const fnKey = version.key.slice(0, version.key.lastIndexOf('@'))
      const target = this.routeAgain(fnKey)
      if (target === undefined) {
        call.state = CallState.Done
        this.answered(call, 404, now)
        sendProblem(call.res, 404, 'ROOST_E_ROUTE_NOT_FOUND', `${fnKey} was deleted while the request waited`, call.requestId)
        continue
      }
      call.version = target
      target.link(call, now)
      this.dispatch(call, now)
    }
  }

  /** Ends the current metrics interval: every version's and instance's load over it. */
  collectMetrics (): GatewayMetricsReport {
    const now = performance.now()
    const intervalMs = now - this.metricsFrom
    this.metricsFrom = now
    const versions: VersionMetrics[] = []
    for (const version of this.versions.values()) versions.push(versionMetrics(version, now, intervalMs))
    for (const version of this.retired.values()) versions.push(versionMetrics(version, now, intervalMs))
    const instances: InstanceMetrics[] = []
    for (const instance of this.instances.values()) {
      instances.push({ id: instance.id, versionKey: instance.versionKey, inFlight: instance.inflight, concurrency: instance.takeConcurrency(now, intervalMs) })
    }
    return { t: 'metrics', at: Date.now(), intervalMs, versions, instances }
  }

  /** The gateway's series in the Prometheus text format: routed versions and retired ones with open requests. */
  exposition (): string {
    return renderGatewayMetrics([...this.versions.values(), ...this.retired.values()])
  }

  /** The control plane's answer to a `scrape` report. */
  scrapeResult (id: number, text: string): void {
    this.scrapes.answer(id, text)
  }

  private serveMetrics (req: IncomingMessage, res: ServerResponse): void {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      sendProblem(res, 405, 'ROOST_E_BAD_REQUEST', '/metrics answers GET only', null, { allow: 'GET, HEAD' })
      return
    }
    const own = this.exposition()
    void this.scrapeControlPlane().then((controlPlane) => {
      const body = joinExpositions(own, typeof controlPlane === 'string' ? controlPlane : '')
      try {
        res.writeHead(200, { 'content-type': EXPOSITION_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) })
        res.end(req.method === 'HEAD' ? undefined : body)
      } catch {
        // A scraper gone meanwhile (or the gateway closing) must not take the worker down.
        res.destroy()
      }
    })
  }

  /** Asks the control plane for its exposition; '' if it does not answer in time. Never rejects. */
  private scrapeControlPlane (): Promise<string> {
    return this.scrapes.ask((id) => this.report({ t: 'scrape', id }))
  }

  private routeAgain (fnKey: string): VersionState | undefined {
    const [namespace, name] = fnKey.split('/')
    const match = this.router.match(`/fn/${name}.${namespace}`)
    return match === null ? undefined : match.fn.split.pick(undefined)
  }

  private requestIdFor (req: IncomingMessage): string {
    const given = req.headers['x-request-id']
    if (typeof given === 'string' && REQUEST_ID_PATTERN.test(given)) return given
    return `${this.requestIdPrefix}-${(++this.requestSequence).toString(36)}`
  }

  private forwardHeaders (req: IncomingMessage, requestId: string, deadline: number, prefix: string): string[] {
    const raw = req.rawHeaders
    const headers: string[] = []
    let forwardedFor: string | undefined
    let host: string | undefined
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]
      if (INSPECTED_HEADER_LENGTHS.has(name.length)) {
        const lower = name.toLowerCase()
        if (DROPPED_REQUEST_HEADERS.has(lower)) {
          if (lower === 'x-forwarded-for') forwardedFor = raw[i + 1]
          continue
        }
        if (lower === 'host') host = raw[i + 1]
      }
      headers.push(name, raw[i + 1])
    }
    const client = req.socket.remoteAddress ?? ''
    headers.push(
      'x-request-id', requestId,
      'x-roost-deadline', String(deadline),
      'x-forwarded-for', forwardedFor === undefined ? client : `${forwardedFor}, ${client}`,
      'x-forwarded-proto', 'http',
      'x-forwarded-prefix', prefix
    )
    if (host !== undefined) headers.push('x-forwarded-host', host)
    return headers
  }
}

/** /healthz and /metrics (a query string aside) are the gateway's own, whatever the routes. */
function reservedPath (url: string): Reserved {
  // Both are 8 characters long: one length test lets every other request through.
  if (url.length !== 8 && (url.length < 8 || url.charCodeAt(8) !== 63 /* ? */)) return Reserved.None
  if (url.startsWith('/healthz')) return Reserved.Health
  if (url.startsWith('/metrics')) return Reserved.Metrics
  return Reserved.None
}

function versionMetrics (version: VersionState, now: number, intervalMs: number): VersionMetrics {
  const stats = version.stats
  const { concurrency, arrivals } = stats.take(now, intervalMs)
  return {
    key: version.key,
    concurrency,
    inFlight: stats.inFlight,
    waiting: stats.waiting,
    arrivals,
    rps: intervalMs > 0 ? arrivals * 1000 / intervalMs : 0
  }
}
