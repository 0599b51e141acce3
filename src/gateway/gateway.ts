import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { randomBytes } from 'node:crypto'
import type { Dispatcher } from 'undici'
import { Call, CallState, type CallOwner } from './call.js'
import { sendProblem } from './problem.js'
import { Router } from './router.js'
import { TrafficSplit } from './traffic-split.js'
import { UpstreamInstance } from './upstream-instance.js'
import { VersionState } from './version-state.js'
import type { GatewayOptions, GatewayReport, RoutedFunction, RoutingTable } from './routing-table.js'

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
  private readonly requestIdPrefix = randomBytes(4).toString('hex')
  private requestSequence = 0

  constructor (private readonly options: GatewayOptions, private readonly report: (message: GatewayReport) => void) {
    this.server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0, headersTimeout: 60_000 }, this.handle)
    this.sweeper = setInterval(this.sweep, SWEEP_INTERVAL_MS)
    this.sweeper.unref()
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
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve())
      this.server.closeAllConnections()
    })
    for (const instance of this.instances.values()) instance.close()
  }

  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    const url = req.url ?? '/'
    const match = this.router.match(url)
    if (match === null) {
      if (url === '/healthz') {
        res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
        return
      }
      sendProblem(res, 404, 'ROOST_E_ROUTE_NOT_FOUND', `no function is routed at ${url.split('?')[0]}`, null)
      return
    }
    const state = match.fn
    const version = state.split.pick(req.headers['x-roost-tag'] as string | undefined)
    const requestId = this.requestIdFor(req)
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
      this.begin(req, res, version, options, requestId, deadline)
      return
    }
    if (length !== undefined && Number(length) > this.options.bodyLimit) {
      this.rejectTooLarge(req, res, requestId)
      return
    }
    this.readBody(req, res, version, options, requestId, deadline)
  }

  private readBody (req: IncomingMessage, res: ServerResponse, version: VersionState, options: Dispatcher.DispatchOptions, requestId: string, deadline: number): void {
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
      this.begin(req, res, version, options, requestId, deadline)
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

  private begin (req: IncomingMessage, res: ServerResponse, version: VersionState, options: Dispatcher.DispatchOptions, requestId: string, deadline: number): void {
    const call = new Call(this, req, res, version, options, requestId, deadline)
    version.link(call)
    this.dispatch(call)
  }

  private dispatch (call: Call): void {
    const version = call.version
    const instance = version.pick()
    if (instance !== null) {
      call.send(instance)
      return
    }
    if (!version.queue.push(call)) {
      this.finish(call)
      sendProblem(call.res, 503, 'ROOST_E_OVERLOADED', `${version.key} has ${version.queue.capacity} requests waiting already; retry shortly`, call.requestId, { 'retry-after': '1' })
      return
    }
    if (!version.hasReadyInstance()) this.demand(version)
  }

  private demand (version: VersionState): void {
    const now = Date.now()
    if (now - version.lastDemandAt < DEMAND_INTERVAL_MS) return
    version.lastDemandAt = now
    this.report({ t: 'demand', versionKey: version.key })
  }

  /** Sends waiting requests to instances with free slots. */
  private pump (version: VersionState): void {
    while (version.queue.length > 0) {
      const instance = version.pick()
      if (instance === null) return
      const call = version.queue.shift()
      if (call === undefined) return
      if (call.res.destroyed) {
        this.finish(call)
        continue
      }
      call.send(instance)
    }
  }

  private finish (call: Call): void {
    call.state = CallState.Done
    call.version.unlink(call)
    const instance = call.instance
    if (instance !== null) {
      instance.inflight--
      call.instance = null
    }
  }

  onCallFinished (call: Call): void {
    this.finish(call)
    if (call.version.queue.length > 0) this.pump(call.version)
  }

  onCallFailed (call: Call, err: Error & { code?: string }): void {
    const instance = call.instance
    this.finish(call)
    if (err.code === 'ECONNREFUSED' && call.attempts < MAX_CONNECT_ATTEMPTS && !call.res.headersSent) {
      // The request never reached the instance: safe to try another.
      if (instance !== null) instance.state = 'draining'
      call.state = CallState.Waiting
      call.version.link(call)
      this.dispatch(call)
      return
    }
    if (call.res.headersSent) call.res.destroy()
    else sendProblem(call.res, 502, 'ROOST_E_INSTANCE_CRASHED', `instance ${instance?.id ?? '?'} closed the connection before answering (it crashed or was killed, see \`roost describe function\`); it is being replaced`, call.requestId)
    if (call.version.queue.length > 0) this.pump(call.version)
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
    const instance = call.instance
    const wasSent = call.state === CallState.Sent
    call.abort()
    this.finish(call)
    const seconds = call.version.config.timeoutMs / 1000
    if (wasSent && instance !== null) {
      this.report({ t: 'suspect', instanceId: instance.id })
      sendProblem(call.res, 504, 'ROOST_E_TIMEOUT', `the function did not answer within its timeout of ${seconds}s`, call.requestId)
      if (call.version.queue.length > 0) this.pump(call.version)
    } else {
      sendProblem(call.res, 504, 'ROOST_E_TIMEOUT', `no instance could take the request within the function's timeout of ${seconds}s`, call.requestId)
    }
  }

  /** Answers every request waiting for a version that cannot start. */
  startFailed (versionKey: string, reason: string): void {
    const version = this.versions.get(versionKey)
    if (version === undefined || version.hasReadyInstance()) return
    for (const call of version.queue.drain()) {
      this.finish(call)
      sendProblem(call.res, 502, 'ROOST_E_START_FAILED', `${versionKey} could not start: ${reason}`, call.requestId)
    }
  }

  applyTable (table: RoutingTable): void {
    const versions = new Map<string, VersionState>()
    const functions: FunctionState[] = []
    for (const fn of table.functions) {
      for (const config of fn.versions) {
        const existing = this.versions.get(config.key) ?? this.retired.get(config.key)
        if (existing !== undefined) existing.config = config
        versions.set(config.key, existing ?? new VersionState(config))
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
    this.router = new Router(functions.map((state) => ({ name: state.fn.name, namespace: state.fn.namespace, paths: state.fn.paths, value: state })))
    this.applyInstances(table)
    for (const [key, version] of previous) {
      if (versions.has(key)) continue
      this.orphaned(version)
      // Requests still in flight on a version that left the table keep their timeout.
      if (version.hasOpenCalls()) this.retired.set(key, version)
    }
    for (const version of versions.values()) if (version.queue.length > 0) this.pump(version)
  }

  private applyInstances (table: RoutingTable): void {
    const instances = new Map<string, UpstreamInstance>()
    for (const routed of table.instances) {
      const version = this.versions.get(routed.versionKey)
      if (version === undefined) continue
      let instance = this.instances.get(routed.id)
      if (instance === undefined) instance = new UpstreamInstance(routed.id, routed.versionKey, routed.host, routed.port, version.config.concurrency, routed.state)
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
  private orphaned (version: VersionState): void {
    for (const call of version.queue.drain()) {
      version.unlink(call)
      const fnKey = version.key.slice(0, version.key.lastIndexOf('@'))
      const target = this.routeAgain(fnKey)
      if (target === undefined) {
        call.state = CallState.Done
        sendProblem(call.res, 404, 'ROOST_E_ROUTE_NOT_FOUND', `${fnKey} was deleted while the request waited`, call.requestId)
        continue
      }
      call.version = target
      target.link(call)
      this.dispatch(call)
    }
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
