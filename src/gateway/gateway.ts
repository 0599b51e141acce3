import { createServer, type Server } from 'node:http'
import { createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net'
import { randomBytes } from 'node:crypto'
import { performance } from 'node:perf_hooks'
import { GatewayError } from '../errors/index.js'
import {
  ANONYMOUS, CallerAuthenticator, GOVERNANCE_BOUNDS, KeyBudget, PlatformCallKey, emptyAuthFacts, fullJitterBackoffMs, scanAuthHeaders,
  type AuthFacts, type AuthResult, type BreakerTransition, type CallingFunction, type Fallback, type FunctionPolicy
} from '../governance/index.js'
import { MAX_DATA_PAYLOAD_BYTES, RequestFlags, type RequestHead } from '../wire/index.js'
import { callbackUrlOf, storedHeaders, waitOf, withoutWait } from './async-request.js'
import { Call, CallState, EventHeaders, type CallOwner } from './call.js'
import { CallRequest, CallResponse, attachBody, attachCaller, type ProxyRequest, type ProxyResponse } from './call-messages.js'
import { answerClientError } from './client-error.js'
import { CLOUDEVENTS_MEDIA_MIN_LENGTH, binaryEventProblem, isCloudEventsMediaType, isInvalidEvent, structuredToBinary, type InvalidEvent } from './cloud-event-request.js'
import { EventToken } from './event-token.js'
import { FastConnection, type FastServer } from './fast-connection.js'
import type { FastRequest } from './fast-request.js'
import type { FastResponse } from './fast-response.js'
import type { DeliveryServer } from './delivery-port.js'
import type { PortResponse } from './port-response.js'
import { ConnectionAdmission } from './connection-admission.js'
import { EXPOSITION_CONTENT_TYPE, joinExpositions, renderGatewayMetrics, type GovernedFunctionMetrics } from './exposition.js'
import { FunctionGovernance, newAdmission, outcomeOf, retryAfterHeader, type Admission, type FunctionGovernanceState, type GovernedRequest, type Rejection } from './function-governance.js'
import type { InstanceConnection } from './instance-connection.js'
import { LaneMatcher } from './lane-matcher.js'
import { sendProblem, writeSocketProblem } from './problem.js'
import { PendingAnswers } from './pending-answers.js'
import { LoadShedder } from './load-shedder.js'
import { Router } from './router.js'
import { TrafficSplit } from './traffic-split.js'
import { UpstreamInstance, type InstanceEvents } from './upstream-instance.js'
import { VersionState } from './version-state.js'
import { readWholeBody, type WholeBody } from './whole-body.js'
import type { ControlAnswer, GatewayMetricsReport, GatewayOptions, GatewayReport, InstanceMetrics, RoutedFunction, RoutingTable, VersionMetrics } from './routing-table.js'

// The request headers the gateway sets itself or that describe the caller's
// connection rather than the request; dropped before forwarding. The deadline
// travels in the request head, so a caller's x-roost-deadline is dropped too.
/** Bodies up to this size (with a Content-Length) are read whole before dispatch. */
const BUFFERED_BODY_BYTES = 64 * 1024
const DROPPED_REQUEST_HEADERS = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'trailer', 'expect',
  'x-request-id', 'x-roost-deadline', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-forwarded-prefix',
  // What the gateway itself tells a function: who called, in which lane; and the call token, never passed on.
  'x-roost-caller', 'x-roost-lane', 'x-roost-call'
])
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE'])
/** Spare admissions kept; past it they are left to the collector. */
const MAX_SPARE_ADMISSIONS = 1024
// Only names of these lengths need the lower-casing below.
const INSPECTED_HEADER_LENGTHS = new Set([...DROPPED_REQUEST_HEADERS, 'host'].map((name) => name.length))
const LOOPBACK = '127.0.0.1'
const REQUEST_ID_PATTERN = /^[A-Za-z0-9._:-]{1,128}$/
const SWEEP_INTERVAL_MS = 50
const DEMAND_INTERVAL_MS = 250
const MAX_ATTEMPTS = 3
const LINGER_MS = 5_000
/** How long a caller whose request timed out mid-body may read the answer before its connection closes. */
const CLOSE_AFTER_MS = 1_000
const METRICS_INTERVAL_MS = 1_000
/** How long GET /metrics waits for the control plane's part before answering without it. */
const SCRAPE_TIMEOUT_MS = 2_000
const MAX_CONNECTIONS = 10_000
const MAX_CONNECTIONS_PER_CLIENT = 256
const HEADERS_TIMEOUT_MS = 10_000
/** How long an idle keep-alive connection is held (as node's server is told below). */
const KEEP_ALIVE_MS = 65_000
const TABLE_WAIT_MS = 2_000
/** Largest u16 a head field length can be. */
const MAX_FIELD = 0xffff
/** /healthz and /metrics; /async/… (async calls) and /_roost/… (the platform's own endpoints, for functions). */
const enum Reserved { None, Health, Metrics, Async, Internal }
const ASYNC_PREFIX = '/async'
const INTERNAL_PREFIX = '/_roost/'
const PUBLISH_PATH = /^\/_roost\/queues\/([A-Za-z0-9][A-Za-z0-9._-]{0,127})\/messages(?:\?.*)?$/
/** A publish body (one or a batch of messages) is read whole up to this. */
const PUBLISH_BODY_LIMIT = 1024 * 1024
const ASYNC_BODY_LIMIT = 1024 * 1024
/** Methods an async call may have: a request worth doing later. */
const ASYNC_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE'])
/** How long a body read whole (the gateway's endpoints, a structured CloudEvent) may take to arrive. */
const WHOLE_BODY_TIMEOUT_MS = 30_000
/** How long the gateway waits for the control plane's answer to a publish or an async call, besides the wait asked for. */
const CONTROL_ANSWER_MS = 10_000
const enum CloudEventMode { None, Binary, Structured }

/** What `scan` reads from a request's headers. */
interface RequestFacts {
  contentLength: string | undefined
  transferEncoding: boolean
  tag: string | undefined
  requestId: string | undefined
  /** `x-roost-lane`: a lane a calling function passes on (honoured only from one, as the two below). */
  lane: string | undefined
  /** `x-roost-deadline` and `x-roost-call`: honoured only from a function of the platform. */
  deadline: string | undefined
  callToken: string | undefined
  idempotencyKey: boolean
  /** x-roost-event-token, x-roost-call-id and x-roost-caller: honoured only on an event delivery. */
  eventToken: string | undefined
  callId: string | undefined
  passedCaller: string | undefined
  /** The request has one of x-roost-event, x-roost-event-token, x-roost-call-id. */
  eventHeaders: boolean
  /** ce-specversion (binary mode), or a Content-Type of a CloudEvents format (structured). */
  cloudEvent: CloudEventMode
}

interface FunctionState {
  fn: RoutedFunction
  split: TrafficSplit<VersionState<Call>>
  /** Null for a function with no governance in its table entry. */
  governance: FunctionGovernance | null
  auth: CallerAuthenticator | null
  lanes: LaneMatcher | null
}

/**
 * The data plane: routes each request to a function version and an instance,
 * holds requests no instance can take yet, enforces timeouts, body limits and
 * connection caps, and streams requests and responses over each instance's
 * framed data connection. It serves from the routing table in memory and never
 * waits on the store.
 */
export class Gateway implements CallOwner, FastServer, DeliveryServer {
  readonly bodyLimit: number
  private readonly server: Server<typeof CallRequest, typeof CallResponse>
  /** Accepts connections and hands those under the caps to the HTTP server. */
  private readonly listener: NetServer
  private readonly admission: ConnectionAdmission
  /** Connections on the fast path (the rest are node's server's). */
  private readonly fastConnections = new Set<FastConnection>()
  private readonly fastPath: boolean
  private readonly headersTimeoutMs: number
  private readonly tableWaitMs: number
  private router = new Router<FunctionState>([])
  private versions = new Map<string, VersionState<Call>>()
  /** Versions no longer routed that still have requests in flight. */
  private readonly retired = new Map<string, VersionState<Call>>()
  private instances = new Map<string, UpstreamInstance>()
  private tableApplied = false
  /** Requests that arrived before the first routing table. */
  private early: CallResponse[] = []
  private readonly sweeper: NodeJS.Timeout
  /** performance.now() of the last sweep: how late the next one runs is the event loop's lag. */
  private lastSweepAt = performance.now()
  private readonly shedder: LoadShedder
  /** Requests shed since the gateway started (the metric). */
  private shedTotal = 0
  private readonly reporter: NodeJS.Timeout | null = null
  /** performance.now() when the current metrics interval began. */
  private metricsFrom = performance.now()
  private eluFrom = performance.eventLoopUtilization()
  private readonly scrapes = new PendingAnswers<string>(SCRAPE_TIMEOUT_MS, '')
  private readonly requestIdPrefix = randomBytes(4).toString('hex')
  private requestSequence = 0
  /** The request head written for every stream: filled, written synchronously, reused. */
  private readonly head: RequestHead = { flags: 0, deadline: 0, method: '', url: '', requestId: '', headers: [] }
  private readonly instanceEvents: InstanceEvents
  private readonly governanceEvents = {
    breaker: (fn: string, rule: string, transition: BreakerTransition): void => this.report({ t: 'governance', function: fn, event: { kind: 'breaker', rule, breaker: transition.breaker, from: transition.from, to: transition.to, reason: transition.reason, openMs: transition.openMs } }),
    burst: (fn: string, rejection: Rejection): void => this.report({ t: 'governance', function: fn, event: { kind: 'rejected', rule: rejection.rule, strategy: rejection.strategy, cause: rejection.cause } })
  }
  private readonly facts: RequestFacts = {
    contentLength: undefined, transferEncoding: false, tag: undefined, requestId: undefined, lane: undefined, deadline: undefined, callToken: undefined, idempotencyKey: false,
    eventToken: undefined, callId: undefined, passedCaller: undefined, eventHeaders: false, cloudEvent: CloudEventMode.None
  }
  private readonly authFacts: AuthFacts = emptyAuthFacts()
  private readonly governed: GovernedRequest = { method: '', url: '', functionPath: '', caller: '', ip: '', rawHeaders: [] }
  /** Checks the call tokens functions send on calls through the gateway (private functions, deadlines). */
  private readonly callKey: PlatformCallKey | undefined
  /** Tells the control plane's event deliveries from every other request. */
  private readonly eventToken: EventToken | undefined
  private readonly asyncBodyLimit: number
  /** Publishes and async calls handed to the control plane, waiting for its answer (null: none in time). */
  private readonly controlAnswers = new PendingAnswers<ControlAnswer | null>(CONTROL_ANSWER_MS, null)
  /** Governance state by function key, kept across routing tables. */
  private governance = new Map<string, { governance: FunctionGovernance, auth: CallerAuthenticator }>()
  /** What keyed limits may track, per namespace under one budget for the gateway: a tenant's made-up keys cannot fill its heap. */
  private readonly keyBudget = new KeyBudget(GOVERNANCE_BOUNDS.trackedKeys)
  private readonly namespaceKeyBudgets = new Map<string, KeyBudget>()
  /** Governance series: rejections by function, cause and rule; retries. */
  private readonly rejections = new Map<string, number>()
  private retriesTotal = 0
  /** Admissions handed back, for the next governed requests. */
  private readonly spareAdmissions: Admission[] = []

  constructor (private readonly options: GatewayOptions, private readonly report: (message: GatewayReport) => void) {
    this.bodyLimit = options.bodyLimit
    this.callKey = options.callKey === undefined ? undefined : PlatformCallKey.fromBytes(options.callKey)
    this.eventToken = options.eventToken === undefined ? undefined : new EventToken(options.eventToken)
    this.asyncBodyLimit = Math.min(options.bodyLimit, options.asyncBodyLimit ?? ASYNC_BODY_LIMIT)
    this.headersTimeoutMs = options.headersTimeoutMs ?? HEADERS_TIMEOUT_MS
    this.tableWaitMs = options.tableWaitMs ?? TABLE_WAIT_MS
    // requestTimeout is off: a request's body is bounded by its function's timeout, swept here.
    this.server = createServer<typeof CallRequest, typeof CallResponse>({
      IncomingMessage: CallRequest,
      ServerResponse: CallResponse,
      keepAliveTimeout: KEEP_ALIVE_MS,
      requestTimeout: 0,
      headersTimeout: this.headersTimeoutMs,
      connectionsCheckingInterval: Math.min(1_000, this.headersTimeoutMs)
    }, this.handle)
    this.server.on('checkContinue', this.handleContinue)
    this.server.on('checkExpectation', this.rejectExpectation)
    this.server.on('clientError', (err: Error, socket: Socket) => answerClientError(err, socket, this.headersTimeoutMs))
    this.server.on('upgrade', rejectUpgrade)
    this.fastPath = options.fastPath ?? true
    this.admission = new ConnectionAdmission(options.maxConnections ?? MAX_CONNECTIONS, options.maxConnectionsPerClient ?? MAX_CONNECTIONS_PER_CLIENT, this.admitted)
    this.listener = createNetServer({ allowHalfOpen: true, noDelay: true }, this.admission.accept)
    this.instanceEvents = {
      unreachable: (instance) => this.report({ t: 'suspect', instanceId: instance.id }),
      violation: (instance, reason) => this.report({ t: 'violation', instanceId: instance.id, reason })
    }
    this.shedder = new LoadShedder(options.loadShedding)
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
      this.listener.once('error', reject)
      this.listener.listen(this.options.port, this.options.host, () => {
        this.listener.off('error', reject)
        // node runs its headers-timeout checks of an HTTP server from its 'listening' event;
        // the sockets reach it through `accept`, so it is told here.
        this.server.emit('listening')
        const address = this.listener.address()
        resolve({ host: this.options.host, port: typeof address === 'object' && address !== null ? address.port : this.options.port })
      })
    })
  }

  async close (): Promise<void> {
    clearInterval(this.sweeper)
    if (this.reporter !== null) clearInterval(this.reporter)
    this.scrapes.abandon()
    this.controlAnswers.abandon()
    const closed = new Promise<void>((resolve) => this.listener.close(() => resolve()))
    this.server.close()
    this.server.closeAllConnections()
    for (const connection of this.fastConnections) connection.destroy()
    for (const instance of this.instances.values()) instance.destroy()
    await closed
  }

  /** Connections held now (for tests and metrics). */
  get connections (): number {
    return this.admission.connections
  }

  private readonly handle = (req: CallRequest, res: CallResponse): void => {
    res.arrivedAt = performance.now()
    const url = req.url ?? '/'
    const reserved = reservedPath(url)
    if (reserved === Reserved.Health || reserved === Reserved.Metrics) {
      // A connection let in over the caps serves this one request.
      if (this.admission.isExempt(req.socket)) res.shouldKeepAlive = false
      if (reserved === Reserved.Health) res.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n')
      else this.serveMetrics(req, res)
      return
    }
    if (this.shedder.overloaded && this.shedder.shouldShed()) {
      this.shed(res)
      return
    }
    if (!this.tableApplied && reserved !== Reserved.Internal) {
      // Until the first table the gateway cannot tell a function that exists from one that does not (a publish needs none).
      this.early.push(res)
      return
    }
    if (reserved === Reserved.None) this.route(req, res, this.scan(req.forwardRaw ?? req.rawHeaders))
    else this.serveReserved(reserved, req, res)
  }

  /** A connection under the caps: the fast path's, unless it is off or the connection was let in over them (it serves one request). */
  private readonly admitted = (socket: Socket): void => {
    if (!this.fastPath || this.admission.isExempt(socket)) this.server.emit('connection', socket)
    else this.fastConnections.add(new FastConnection(socket, this, KEEP_ALIVE_MS, this.headersTimeoutMs))
  }

  serveFast (req: FastRequest, res: FastResponse): boolean {
    if (!this.tableApplied || reservedPath(req.url) !== Reserved.None) return false
    const facts = this.scan(req.rawHeaders)
    // A structured CloudEvent is read as a stream and rewritten: node's request does that.
    if (facts.cloudEvent === CloudEventMode.Structured) return false
    res.arrivedAt = performance.now()
    if (this.shedder.overloaded && this.shedder.shouldShed()) this.shed(res)
    else this.route(req, res, facts)
    return true
  }

  /** A delivery of the control plane (delivery-port.ts): routed as a request on the gateway port is, with its event token. */
  serveDelivery (req: FastRequest, res: PortResponse): void {
    res.arrivedAt = performance.now()
    if (!this.tableApplied) {
      sendProblem(res, 503, 'ROOST_E_NOT_READY', 'the gateway has no routing table yet', null, { 'retry-after': '1' })
      return
    }
    const facts = this.scan(req.rawHeaders)
    // Only the platform holds the channel; a delivery without the run's token is a fault of ours, refused before routing.
    if (facts.eventToken === undefined || this.eventToken === undefined || !this.eventToken.matches(facts.eventToken)) {
      sendProblem(res, 403, 'ROOST_E_FORBIDDEN', 'a delivery on the channel carried no valid event token', null)
      return
    }
    if (this.shedder.overloaded && this.shedder.shouldShed()) this.shed(res)
    else this.route(req, res, facts, true)
  }

  handOver (socket: Socket): void {
    this.server.emit('connection', socket)
  }

  fastClosed (connection: FastConnection): void {
    this.fastConnections.delete(connection)
  }

  private shed (res: ProxyResponse): void {
    this.shedTotal++
    sendProblem(res, 503, 'ROOST_E_GATEWAY_OVERLOADED', `the gateway is overloaded (its event loop runs ${Math.round(this.shedder.lagMs)} ms late) and sheds part of the new requests; retry shortly`, null, { 'retry-after': '1' })
  }

  private serveReserved (reserved: Reserved, req: CallRequest, res: CallResponse): void {
    if (reserved === Reserved.Async) this.serveAsync(req, res)
    else this.servePublish(req, res)
  }

  /** `Expect: 100-continue`: answered 100 once the request is found acceptable (RFC 9110 §10.1.1). */
  private readonly handleContinue = (req: CallRequest, res: CallResponse): void => {
    res.expectContinue = true
    res.keepAliveAfterContinue = res.shouldKeepAlive
    // A caller answered without 100 may never send its body: the connection cannot be reused.
    res.shouldKeepAlive = false
    this.handle(req, res)
  }

  private readonly rejectExpectation = (req: CallRequest, res: CallResponse): void => {
    res.shouldKeepAlive = false
    sendProblem(res, 417, 'ROOST_E_EXPECTATION_FAILED', `the gateway cannot meet "Expect: ${String(req.headers.expect)}"; only 100-continue is supported`, null)
  }

  /** `facts` are what scan read of the request's headers (forwardRaw's, when it was rewritten). */
  /** `channel`: the request came on the delivery channel (serveDelivery), the one way an event delivery arrives. */
  private route (req: ProxyRequest, res: ProxyResponse, facts: RequestFacts, channel = false): void {
    const url = req.url ?? '/'
    const match = this.router.match(url, this.router.hasHosts ? req.headers.host : undefined)
    if (match === null) {
      sendProblem(res, 404, 'ROOST_E_ROUTE_NOT_FOUND', `no function is routed at ${url.split('?')[0]}`, null)
      return
    }
    const state = match.fn
    // An event delivery of the control plane comes on its channel and carries the run's event token; on the
    // gateway's port the token is never honoured, so a caller that learned it could still not pass as the platform.
    const delivery = channel && facts.eventToken !== undefined && this.eventToken !== undefined && this.eventToken.matches(facts.eventToken)
    // A delivery's logs are found by its record's id: the call id is its request id.
    const requestId = this.requestIdFor(delivery && facts.callId !== undefined ? facts.callId : facts.requestId)
    const length = facts.contentLength
    if (length !== undefined && Number(length) > this.bodyLimit) {
      this.rejectTooLarge(req, res, requestId)
      return
    }
    if (facts.cloudEvent !== CloudEventMode.None && !delivery && req.forwardRaw === null) {
      if (facts.cloudEvent === CloudEventMode.Structured) {
        // Only node's requests come here: the fast path leaves structured events to node's server (serveFast).
        this.readStructuredEvent(req as CallRequest, res as CallResponse, requestId)
        return
      }
      const problem = binaryEventProblem(req.headers)
      if (problem !== null) {
        this.refuseEvent(req, res, problem, requestId)
        return
      }
    }
    const hasBody = facts.transferEncoding || (length !== undefined && length !== '0')
    // A function of the platform calling through the gateway proves it with its call token.
    const from = facts.callToken !== undefined && this.callKey !== undefined ? this.callKey.verify(facts.callToken) : undefined
    // A delivery passes on who made the call it replays (an async call's caller), and skips the caller check: the platform calls.
    let caller = delivery ? facts.passedCaller ?? ANONYMOUS : from?.caller ?? ANONYMOUS
    const auth = delivery ? null : state.auth
    // A signed request is checked once its body is in.
    const authAfterBody = auth !== null && auth.needsBody && hasBody
    if (auth !== null && !authAfterBody) {
      const result = auth.authenticate(scanAuthHeaders(req.rawHeaders, this.authFacts), Date.now())
      if (!result.ok) {
        this.refuseCaller(req, res, result, requestId)
        return
      }
      caller = result.caller
    } else if (authAfterBody && length !== undefined && Number(length) > (auth as CallerAuthenticator).maxBodyBytes) {
      this.rejectTooLarge(req, res, requestId, (auth as CallerAuthenticator).maxBodyBytes)
      return
    }
    // Only a function of the platform passes a lane on: from anyone else x-roost-lane would skip the lane rules' conditions.
    const lane = (from === undefined ? undefined : facts.lane) ?? state.lanes?.match(req as { url: string, rawHeaders: string[] })
    const version = (lane === undefined ? undefined : state.split.pickLane(lane)) ?? state.split.pick(facts.tag)
    const now = performance.now()
    // The timeout runs from arrival: reading the body and waiting for an instance count.
    let deadline = Date.now() - (now - res.arrivedAt) + version.config.timeoutMs
    if ((from !== undefined || delivery) && facts.deadline !== undefined) {
      // A calling function passes its own deadline on: the call cannot outlive the request it serves (nor a delivery its lease).
      const given = Number(facts.deadline)
      if (given > 0 && given < deadline) deadline = given
    }
    const governance = state.governance
    let admission: Admission | null = null
    if (governance !== null) {
      // The budget counts requests only for a function that may retry what an instance began.
      if (governance.retries) governance.retryBudget.recordRequest(now)
      if (governance.hasRules && !authAfterBody) {
        admission = this.takeAdmission()
        const rejection = governance.admit(this.governedRequest(req, match.path, caller), now, admission)
        if (rejection !== null) {
          // A refusal hands back what it held as it is made: the admission is empty again.
          this.spareAdmission(admission)
          this.reject(req, res, state, rejection, requestId, match.path, match.prefix, caller, lane, deadline)
          return
        }
      }
    }
    const call = this.startCall(req, res, version, requestId, deadline, match.path, match.prefix, hasBody, facts, now)
    call.caller = caller
    call.lane = lane
    call.governance = governance
    call.admission = admission
    if (delivery) call.events = EventHeaders.Deliver
    if (authAfterBody) {
      call.auth = auth
      call.authPending = true
      call.buffering = true
    }
    if (!call.buffering) this.go(call, now)
    // A body the gateway read whole before (a rewritten CloudEvent) is in already.
    else if (call.bodyEnded) this.onBodyBuffered(call)
  }

  /**
   * A structured-mode CloudEvent: read whole, turned into binary mode (the one
   * shape functions see), then routed as if it had come so.
   */
  private readStructuredEvent (req: CallRequest, res: CallResponse, requestId: string): void {
    continueIfAsked(res)
    void readWholeBody(req, this.bodyLimit, WHOLE_BODY_TIMEOUT_MS).then((read) => {
      if (!read.ok) {
        this.answerUnread(req, res, read, this.bodyLimit, 'the limit', requestId)
        return
      }
      const binary = structuredToBinary(req.rawHeaders, req.headers, read.body)
      if (isInvalidEvent(binary)) {
        this.refuseEvent(req, res, binary, requestId)
        return
      }
      if (res.destroyed) return
      req.forwardRaw = binary.headers
      req.preloaded = binary.body
      req.receivedBody = read.body
      this.route(req, res, this.scan(binary.headers))
    })
  }

  /** 400 naming the attribute: the function never sees an event that breaks the spec. */
  private refuseEvent (req: ProxyRequest, res: ProxyResponse, problem: InvalidEvent, requestId: string): void {
    const fields: Record<string, unknown> = { errors: problem.errors }
    if (problem.field !== undefined) fields.field = problem.field
    sendProblem(res, 400, 'ROOST_E_INVALID_CLOUD_EVENT', `the request is not a valid CloudEvent: ${problem.detail}`, requestId, undefined, fields)
    this.linger(req)
  }

  /**
   * `POST /_roost/queues/<queue>/messages`: a function publishes (ctx.publish).
   * Its call token names its namespace, which is the queue's; the control
   * plane writes the messages and its answer goes back as it is.
   */
  private servePublish (req: CallRequest, res: CallResponse): void {
    const facts = this.scan(req.rawHeaders)
    const requestId = this.requestIdFor(facts.requestId)
    const url = req.url ?? '/'
    const queue = PUBLISH_PATH.exec(url)?.[1]
    if (queue === undefined) {
      sendProblem(res, 404, 'ROOST_E_ROUTE_NOT_FOUND', `${url.split('?')[0]} is not an endpoint of the gateway: ${INTERNAL_PREFIX} is the platform's own, never routed to a function; functions publish with POST ${INTERNAL_PREFIX}queues/<queue>/messages`, requestId)
      this.linger(req)
      return
    }
    if (req.method !== 'POST') {
      sendProblem(res, 405, 'ROOST_E_BAD_REQUEST', `${INTERNAL_PREFIX}queues/${queue}/messages answers POST only`, requestId, { allow: 'POST' })
      this.linger(req)
      return
    }
    const from = facts.callToken !== undefined && this.callKey !== undefined ? this.callKey.verify(facts.callToken) : undefined
    if (from === undefined) {
      sendProblem(res, 401, 'ROOST_E_UNAUTHORIZED', `publishing to a queue needs the call token of a function of this platform in x-roost-call (${facts.callToken === undefined ? 'none was sent' : 'the one sent is not valid'}); functions publish with ctx.publish`, requestId, { 'www-authenticate': 'Roost-Call realm="roost"' })
      this.linger(req)
      return
    }
    if (facts.contentLength !== undefined && Number(facts.contentLength) > PUBLISH_BODY_LIMIT) {
      this.rejectTooLarge(req, res, requestId, PUBLISH_BODY_LIMIT, 'the limit of a publish')
      return
    }
    continueIfAsked(res)
    void readWholeBody(req, PUBLISH_BODY_LIMIT, WHOLE_BODY_TIMEOUT_MS).then((read) => {
      if (!read.ok) {
        this.answerUnread(req, res, read, PUBLISH_BODY_LIMIT, 'the limit of a publish', requestId)
        return
      }
      let messages: unknown
      try {
        messages = (JSON.parse(read.body.toString('utf8')) as { messages?: unknown } | null)?.messages
      } catch (err) {
        sendProblem(res, 400, 'ROOST_E_BAD_REQUEST', `the publish body is not JSON: ${(err as Error).message}`, requestId)
        return
      }
      if (!Array.isArray(messages)) {
        sendProblem(res, 422, 'ROOST_E_VALIDATION', 'messages: the publish body is {"messages": [ … ]}, an array of one or more messages', requestId, undefined, { field: 'messages', errors: [{ field: 'messages', message: 'required: an array of messages' }] })
        return
      }
      const request = { namespace: from.namespace, queue, caller: from.caller, messages, requestId }
      void this.askControlPlane((id) => this.report({ t: 'publish', id, ...request }), CONTROL_ANSWER_MS)
        .then((answer) => this.writeAnswer(res, answer, requestId, 'the messages may or may not have been published; publish them again with a key to be safe'))
    })
  }

  /**
   * `/async/<route>`: the request, read whole, is handed to the control plane
   * to be stored as an invocation record; the caller gets 202 with where to
   * find the result, or the result itself when it asked to wait and it came in time.
   * The function's caller check runs now: its delivery later skips it.
   */
  private serveAsync (req: CallRequest, res: CallResponse): void {
    const url = (req.url ?? '/').slice(ASYNC_PREFIX.length)
    const match = this.router.match(url, this.router.hasHosts ? req.headers.host : undefined)
    const facts = this.scan(req.rawHeaders)
    const requestId = this.requestIdFor(facts.requestId)
    if (match === null) {
      sendProblem(res, 404, 'ROOST_E_ROUTE_NOT_FOUND', `no function is routed at ${url.split('?')[0]} (asked at ${ASYNC_PREFIX}${url.split('?')[0]} to be called asynchronously)`, requestId)
      this.linger(req)
      return
    }
    const method = req.method ?? 'GET'
    if (!ASYNC_METHODS.has(method)) {
      sendProblem(res, 405, 'ROOST_E_BAD_REQUEST', `an async call is a POST, PUT, PATCH or DELETE (a request worth doing later), not ${method}`, requestId, { allow: 'POST, PUT, PATCH, DELETE' })
      this.linger(req)
      return
    }
    const limit = this.asyncBodyLimit
    if (facts.contentLength !== undefined && Number(facts.contentLength) > limit) {
      this.rejectTooLarge(req, res, requestId, limit, 'the limit of an async call')
      return
    }
    const state = match.fn
    const from = facts.callToken !== undefined && this.callKey !== undefined ? this.callKey.verify(facts.callToken) : undefined
    let caller = from?.caller ?? ANONYMOUS
    const auth = state.auth
    const hasBody = facts.transferEncoding || (facts.contentLength !== undefined && facts.contentLength !== '0')
    const authAfterBody = auth !== null && auth.needsBody && hasBody
    if (auth !== null && !authAfterBody) {
      const result = auth.authenticate(scanAuthHeaders(req.rawHeaders, this.authFacts), Date.now())
      if (!result.ok) {
        this.refuseCaller(req, res, result, requestId)
        return
      }
      caller = result.caller
    }
    const wait = waitOf(url, req.headers.prefer as string | undefined)
    const callback = callbackUrlOf(req.headers['x-callback-url'] as string | undefined)
    const bad = !wait.ok ? wait : !callback.ok ? callback : undefined
    if (bad !== undefined) {
      sendProblem(res, bad.field === 'wait' ? 400 : 422, bad.field === 'wait' ? 'ROOST_E_BAD_REQUEST' : 'ROOST_E_VALIDATION', `${bad.field}: ${bad.message}`, requestId, undefined, { field: bad.field, errors: [{ field: bad.field, message: bad.message }] })
      this.linger(req)
      return
    }
    const fn = state.fn
    const path = withoutWait(match.path)
    const headers = storedHeaders(req.rawHeaders, auth !== null)
    continueIfAsked(res)
    void readWholeBody(req, limit, WHOLE_BODY_TIMEOUT_MS).then((read) => {
      if (!read.ok) {
        this.answerUnread(req, res, read, limit, 'the limit of an async call', requestId)
        return
      }
      if (authAfterBody) {
        const signed = scanAuthHeaders(req.rawHeaders, this.authFacts)
        signed.body = read.body
        const result = (auth as CallerAuthenticator).authenticate(signed, Date.now())
        signed.body = undefined
        if (!result.ok) {
          this.refuseCaller(req, res, result, requestId)
          return
        }
        caller = result.caller
      }
      const waitMs = (wait as { value: number }).value
      const request = {
        namespace: fn.namespace,
        function: fn.name,
        method,
        path,
        headers,
        body: read.body,
        callbackUrl: (callback as { value: string | undefined }).value,
        caller: caller === ANONYMOUS ? undefined : caller,
        requestId,
        waitMs
      }
      void this.askControlPlane((id) => this.report({ t: 'invoke-async', id, ...request }), waitMs + CONTROL_ANSWER_MS)
        .then((answer) => this.writeAnswer(res, answer, requestId, 'the call may or may not have been accepted'))
    })
  }

  private askControlPlane (send: (id: number) => void, timeoutMs: number): Promise<ControlAnswer | null> {
    return this.controlAnswers.ask(send, timeoutMs)
  }

  /** The control plane's answer to a `publish` or `invoke-async` report. */
  controlAnswered (id: number, answer: ControlAnswer): void {
    this.controlAnswers.answer(id, answer)
  }

  /** Writes the control plane's answer as it is; none in time is a 504 saying what may have happened. */
  private writeAnswer (res: CallResponse, answer: ControlAnswer | null, requestId: string, unknownOutcome: string): void {
    if (res.destroyed) return
    if (answer === null) {
      sendProblem(res, 504, 'ROOST_E_TIMEOUT', `the control plane did not answer in time: ${unknownOutcome}`, requestId)
      return
    }
    const body = answer.body === undefined ? EMPTY : typeof answer.body === 'string' ? Buffer.from(answer.body, 'utf8') : answer.body
    try {
      res.writeHead(answer.status, { ...answer.headers, 'content-length': body.byteLength, 'x-request-id': requestId })
      res.end(body)
    } catch {
      // A header node refuses (a function's stored response) or a caller gone: nothing more can be said.
      res.destroy()
    }
  }

  /** A body the gateway wanted whole that did not come: too large (413), too slow (408), or its caller left. */
  private answerUnread (req: CallRequest, res: CallResponse, read: Extract<WholeBody, { ok: false }>, limit: number, what: string, requestId: string): void {
    if (read.reason === 'too-large') {
      this.rejectTooLarge(req, res, requestId, limit, what)
    } else if (read.reason === 'timeout') {
      sendProblem(res, 408, 'ROOST_E_REQUEST_TIMEOUT', `the request's body did not arrive within ${WHOLE_BODY_TIMEOUT_MS / 1000}s`, requestId, { connection: 'close' })
      setTimeout(() => req.socket.destroy(), CLOSE_AFTER_MS).unref()
    } else {
      res.destroy()
    }
  }

  /** Makes the call of a request routed to `version` and links it there; the caller dispatches it. */
  private startCall (req: ProxyRequest, res: ProxyResponse, version: VersionState<Call>, requestId: string, deadline: number, path: string, prefix: string, hasBody: boolean, facts: RequestFacts, now: number): Call {
    continueIfAsked(res)
    const call = new Call(this, req, res, version, requestId, deadline, res.arrivedAt, path, prefix, hasBody)
    call.idempotent = facts.idempotencyKey || IDEMPOTENT_METHODS.has(req.method ?? 'GET')
    // Event headers are dropped unless the route finds the request is a delivery.
    if (facts.eventHeaders) call.events = EventHeaders.Strip
    // A small body is read whole before it takes an instance's slot, as nginx
    // buffers request bodies: a client that trickles one in holds only its own
    // connection, not the function's concurrency. Larger and chunked bodies stream.
    call.buffering = hasBody && !facts.transferEncoding && Number(facts.contentLength) <= BUFFERED_BODY_BYTES && !req.complete
    if (req.preloaded !== null) {
      if (hasBody) call.preload(req.preloaded)
      attachCaller(res, call)
    } else if (hasBody) {
      // A fast request's body is always preloaded: a streamed one is node's.
      attachBody(req as CallRequest, res as CallResponse, call)
    } else {
      attachCaller(res, call)
    }
    version.stats.arrivals++
    version.link(call, now)
    return call
  }

  /** An empty admission: a spare one if there is one (governed requests allocate none in the steady state). */
  private takeAdmission (): Admission {
    return this.spareAdmissions.pop() ?? newAdmission()
  }

  private spareAdmission (admission: Admission): void {
    admission.waitMs = 0
    if (this.spareAdmissions.length < MAX_SPARE_ADMISSIONS) this.spareAdmissions.push(admission)
  }

  /** The reused facts a function's rules read of a request. */
  private governedRequest (req: ProxyRequest, functionPath: string, caller: string): GovernedRequest {
    const governed = this.governed
    governed.method = req.method ?? 'GET'
    governed.url = req.url ?? '/'
    governed.functionPath = functionPath
    governed.caller = caller
    governed.ip = req.socket?.remoteAddress ?? ''
    governed.rawHeaders = req.rawHeaders
    return governed
  }

  /** Dispatches a call once the wait its throttling rule gave it is over. */
  private go (call: Call, now: number): void {
    const admission = call.admission
    const wait = admission === null ? 0 : admission.waitMs
    if (wait <= 0) {
      this.dispatch(call, now)
      return
    }
    (admission as Admission).waitMs = 0
    setTimeout(() => {
      // It may have timed out, or its caller left, while it waited its turn.
      if (call.state === CallState.Waiting && !call.res.destroyed) this.dispatch(call, performance.now())
    }, wait)
  }

  onBodyBuffered (call: Call): void {
    const now = performance.now()
    if (call.authPending && !this.authenticateBuffered(call, now)) return
    this.go(call, now)
  }

  /** A signed request whose body is in: checks its caller, then its rules; false when it was answered. */
  private authenticateBuffered (call: Call, now: number): boolean {
    call.authPending = false
    const auth = call.auth as CallerAuthenticator
    if (call.received > auth.maxBodyBytes) {
      this.finish(call, now)
      this.answered(call, 413, now, true)
      this.rejectTooLarge(call.req, call.res, call.requestId, auth.maxBodyBytes)
      return false
    }
    const facts = scanAuthHeaders(call.req.rawHeaders, this.authFacts)
    facts.body = call.req.receivedBody ?? call.bodyBytes()
    const result = auth.authenticate(facts, Date.now())
    facts.body = undefined
    if (!result.ok) {
      this.finish(call, now)
      call.state = CallState.Done
      this.refuseCaller(call.req, call.res, result, call.requestId)
      return false
    }
    call.caller = result.caller
    const governance = call.governance
    if (governance === null || !governance.hasRules) return true
    const admission = this.takeAdmission()
    const rejection = governance.admit(this.governedRequest(call.req, call.path, call.caller), now, admission)
    if (rejection === null) {
      call.admission = admission
      return true
    }
    this.spareAdmission(admission)
    this.finish(call, now)
    this.countRejection(rejection)
    this.answerRejection(call.res, rejection, call.requestId)
    this.linger(call.req)
    return false
  }

  /** 401/403 (or 503 when signed requests outrun the replay cache); never counted against the function. */
  private refuseCaller (req: ProxyRequest, res: ProxyResponse, result: Extract<AuthResult, { ok: false }>, requestId: string): void {
    const headers: Record<string, string> = {}
    if (result.wwwAuthenticate !== '') headers['www-authenticate'] = result.wwwAuthenticate
    if (result.retryAfterSeconds !== undefined) headers['retry-after'] = String(result.retryAfterSeconds)
    sendProblem(res, result.status, result.code, result.detail, requestId, headers)
    this.linger(req)
  }

  /** A request its rules refused: the rule's fallback for the cause, or the gateway's own answer. */
  private reject (req: ProxyRequest, res: ProxyResponse, state: FunctionState, rejection: Rejection, requestId: string, path: string, prefix: string, caller: string, lane: string | undefined, deadline: number): void {
    this.countRejection(rejection)
    const fallback = rejection.fallback
    if (fallback?.kind === 'function') {
      const target = this.fallbackVersion(state.fn.namespace, fallback)
      if (target !== undefined) {
        const facts = this.scan(req.forwardRaw ?? req.rawHeaders)
        const hasBody = facts.transferEncoding || (facts.contentLength !== undefined && facts.contentLength !== '0')
        const now = performance.now()
        const call = this.startCall(req, res, target, requestId, deadline, path, prefix, hasBody, facts, now)
        call.caller = caller
        call.lane = lane
        if (!call.buffering) this.dispatch(call, now)
        return
      }
    }
    this.answerRejection(res, rejection, requestId)
    this.linger(req)
  }

  /** The version a function fallback names, in the same namespace; undefined when it is not routed. */
  private fallbackVersion (namespace: string, fallback: Extract<Fallback, { kind: 'function' }>): VersionState<Call> | undefined {
    const match = this.router.match(`/fn/${fallback.name}.${namespace}`)
    if (match === null) return undefined
    if (fallback.version !== undefined) return this.versions.get(`${namespace}/${fallback.name}@${fallback.version}`) ?? match.fn.split.pick(undefined)
    return match.fn.split.pick(undefined)
  }

  private answerRejection (res: ProxyResponse, rejection: Rejection, requestId: string): void {
    const headers: Record<string, string> = { 'retry-after': retryAfterHeader(rejection.retryAfterMs) }
    if (rejection.rateLimitPolicy !== undefined) headers['ratelimit-policy'] = rejection.rateLimitPolicy
    if (rejection.rateLimit !== undefined) headers.ratelimit = rejection.rateLimit
    const fallback = rejection.fallback
    if (fallback?.kind === 'response') {
      writeFallback(res, fallback, headers, requestId)
      return
    }
    const problem = REJECTION_PROBLEMS[rejection.cause]
    sendProblem(res, problem.status, problem.code, `${problem.detail} (${rejection.rule}, ${rejection.strategy}); retry after ${headers['retry-after']} s`, requestId, headers)
  }

  /** By the rejection's own key (function, cause, rule), made once per rule: no string per refusal. */
  private countRejection (rejection: Rejection): void {
    const key = rejection.metricKey
    this.rejections.set(key, (this.rejections.get(key) ?? 0) + 1)
  }

  retryStarted (call: Call): boolean {
    const governance = call.governance
    if (governance === null || call.res.headersSent || !call.canResend) return false
    const retry = governance.policy.retry
    if (call.attempts >= retry.attempts) return false
    const now = performance.now()
    const backoff = fullJitterBackoffMs(call.attempts - 1, retry.baseMs, retry.capMs, Math.random)
    // One deadline for every attempt: a retry that could not finish in time is not tried.
    if (Date.now() + backoff >= call.deadline) return false
    if (!governance.retryBudget.tryRetry(now)) return false
    this.retriesTotal++
    call.cancel()
    this.finish(call, now)
    call.requeue()
    call.version.link(call, now)
    setTimeout(() => {
      if (call.state === CallState.Waiting && !call.res.destroyed) this.dispatch(call, performance.now())
    }, backoff)
    return true
  }

  private rejectTooLarge (req: ProxyRequest, res: ProxyResponse, requestId: string, limit = this.bodyLimit, what = limit === this.bodyLimit ? 'the limit' : 'the limit of a signed request (its body is read whole to check the signature)'): void {
    sendProblem(res, 413, 'ROOST_E_PAYLOAD_TOO_LARGE', `the request body is larger than ${what} of ${limit} bytes`, requestId)
    this.linger(req)
  }

  /**
   * Closing with unread bytes would reset the connection under a client still
   * sending, and it would never see the answer: read and drop the rest, as
   * nginx's lingering close does, and cut off only a body that does not end in time.
   */
  private linger (req: ProxyRequest): void {
    if (req.complete) return
    req.call = null
    req.resume()
    setTimeout(() => { if (!req.complete) req.socket?.destroy() }, LINGER_MS).unref()
  }

  private dispatch (call: Call, now: number): void {
    const version = call.version
    const instance = version.pick()
    if (instance !== null) {
      this.send(call, instance, now)
      return
    }
    if (!version.queue.push(call)) {
      this.finish(call, now)
      this.fail(call, 503, 'ROOST_E_OVERLOADED', `${version.key} has ${version.queue.capacity} requests waiting already; retry shortly`, now, { 'retry-after': '1' })
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

  private send (call: Call, instance: UpstreamInstance, now: number): void {
    try {
      call.send(instance, now)
    } catch (err) {
      this.finish(call, now)
      this.fail(call, 500, 'ROOST_E_GATEWAY', `the gateway could not send the request: ${err instanceof Error ? err.message : String(err)}`, now)
    }
  }

  /** Writes the call's request head as a new stream; the head object and its header list are reused. */
  openStream (call: Call, connection: InstanceConnection): number {
    const head = this.head
    // An event delivery is flagged: the runtime reads x-roost-event only then (docs/event-delivery.md).
    head.flags = (call.hasBody ? RequestFlags.HasBody : 0) | (call.events === EventHeaders.Deliver ? RequestFlags.Event : 0)
    head.deadline = call.deadline
    head.method = call.req.method ?? 'GET'
    head.url = call.path
    head.requestId = call.requestId
    this.forwardHeaders(call, head.headers)
    return connection.open(call, head)
  }

  private demand (version: VersionState<Call>): void {
    const now = Date.now()
    if (now - version.lastDemandAt < DEMAND_INTERVAL_MS) return
    version.lastDemandAt = now
    this.report({ t: 'demand', versionKey: version.key })
  }

  /** Sends waiting requests to instances with free slots. */
  private pump (version: VersionState<Call>, now: number): void {
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
      this.send(call, instance, now)
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
    const connection = call.connection
    if (connection !== null) {
      call.connection = null
      connection.finished()
    }
  }

  /** Counts the response a call was sent, `status` being the one the caller saw; hands back what governance lent it. */
  private answered (call: Call, status: number, now: number, byGateway = false): void {
    call.status = status
    call.version.stats.completed(status, now - call.arrivedAt, call.cold)
    const admission = call.admission
    if (admission !== null) {
      call.admission = null
      // The call's own time: a wait for a cold start is not the function being slow.
      const duration = call.sentAt > 0 ? now - call.sentAt : 0
      call.governance?.finish(admission, outcomeOf(status, byGateway, false), duration, now)
      this.spareAdmission(admission)
    }
  }

  /** A call that ends with no answer (its caller left): what governance lent it comes back, counting for nothing. */
  private abandoned (call: Call, now: number): void {
    const admission = call.admission
    if (admission === null) return
    call.admission = null
    call.governance?.finish(admission, 'ignored', 0, now)
    this.spareAdmission(admission)
  }

  /** Answers a call the gateway gave up on (already finished) with its own problem, or its rule's fallback for the cause. */
  private fail (call: Call, status: number, code: string, detail: string, now: number, headers?: Record<string, string>): void {
    this.answered(call, status, now, true)
    const cause = status === 504 ? 'timed-out' : code === 'ROOST_E_OVERLOADED' ? 'overloaded' : undefined
    const fallback = cause === undefined ? undefined : call.governance?.fallbackFor(cause, call.req.method ?? 'GET', call.path, call.req.url ?? '/')
    if (fallback?.kind === 'response') writeFallback(call.res, fallback, headers ?? {}, call.requestId)
    else sendProblem(call.res, status, code, detail, call.requestId, headers)
    this.linger(call.req)
  }

  onCallFinished (call: Call): void {
    const now = performance.now()
    this.finish(call, now)
    this.answered(call, call.status, now)
    // The function answered before the caller finished its body: drop the rest, within bounds.
    if (!call.bodyEnded) this.linger(call.req)
    if (call.version.queue.length > 0) this.pump(call.version, now)
  }

  onCallCutOff (call: Call): void {
    const now = performance.now()
    this.finish(call, now)
    // The caller got the instance's status and a cut-off body.
    this.answered(call, call.status, now)
    call.res.destroy()
    if (call.version.queue.length > 0) this.pump(call.version, now)
  }

  onCallFailed (call: Call, status: number, code: string, detail: string): void {
    const now = performance.now()
    this.finish(call, now)
    this.fail(call, status, code, detail, now)
    if (call.version.queue.length > 0) this.pump(call.version, now)
  }

  onCallRetry (call: Call, refused: boolean): void {
    const now = performance.now()
    const instance = call.instance
    this.finish(call, now)
    // It will not start requests until the control plane says it is ready again.
    if (refused && instance !== null && instance.state === 'ready') instance.state = 'starting'
    if (!call.retryable || call.attempts >= MAX_ATTEMPTS || call.res.headersSent) {
      const why = call.retryable ? `${call.attempts} instances refused it` : 'its body was already sent'
      this.fail(call, 503, 'ROOST_E_NOT_READY', `no instance of ${call.version.key} would start the request (${why}); retry shortly`, now, { 'retry-after': '1' })
    } else {
      // Nothing of it ran: another instance may take it.
      call.requeue()
      call.version.link(call, now)
      this.dispatch(call, now)
    }
    if (call.version.queue.length > 0) this.pump(call.version, now)
  }

  onCallerGone (call: Call): void {
    const now = performance.now()
    call.cancel()
    this.finish(call, now)
    // A caller that left mid-response saw the instance's status; one that left before saw none.
    if (call.res.headersSent) this.answered(call, call.status, now)
    else this.abandoned(call, now)
    if (call.version.queue.length > 0) this.pump(call.version, now)
  }

  onBodyTooLarge (call: Call): void {
    const now = performance.now()
    call.cancel()
    this.finish(call, now)
    if (call.res.headersSent) {
      this.answered(call, call.status, now)
      call.res.destroy()
    } else {
      this.answered(call, 413, now)
      this.rejectTooLarge(call.req, call.res, call.requestId)
    }
    if (call.version.queue.length > 0) this.pump(call.version, now)
  }

  private readonly sweep = (): void => {
    const at = performance.now()
    this.shedder.observeLag(at - this.lastSweepAt - SWEEP_INTERVAL_MS)
    this.lastSweepAt = at
    const now = Date.now()
    for (const version of this.versions.values()) version.expire(now, this.expire)
    for (const [key, version] of this.retired) {
      version.expire(now, this.expire)
      if (!version.hasOpenCalls()) this.retired.delete(key)
    }
    if (this.early.length > 0) this.expireEarly(performance.now())
  }

  private readonly expire = (call: Call): void => {
    const now = performance.now()
    const instance = call.instance
    const wasSent = call.state === CallState.Sent
    // A body still arriving at the deadline is the caller's delay, unless the gateway held it back.
    const bodyLate = !call.bodyEnded && !call.stalledByGateway
    call.cancel()
    this.finish(call, now)
    const res = call.res
    if (res.headersSent) {
      // A response already under way is cut off: the caller saw its status.
      this.answered(call, call.status, now)
      res.destroy()
      return
    }
    const seconds = call.version.config.timeoutMs / 1000
    if (bodyLate) {
      const status = wasSent ? 504 : 408
      this.answered(call, status, now, true)
      if (wasSent) sendProblem(res, 504, 'ROOST_E_TIMEOUT', `the request's body did not arrive within the function's timeout of ${seconds}s`, call.requestId, { connection: 'close' })
      else sendProblem(res, 408, 'ROOST_E_REQUEST_TIMEOUT', `the request's body did not arrive within the function's timeout of ${seconds}s`, call.requestId, { connection: 'close' })
      call.req.call = null
      setTimeout(() => res.socket?.destroy(), CLOSE_AFTER_MS).unref()
    } else if (wasSent && instance !== null) {
      this.report({ t: 'suspect', instanceId: instance.id })
      // Through fail: a rule's timedOut fallback answers instead of the problem.
      this.fail(call, 504, 'ROOST_E_TIMEOUT', `the function did not answer within its timeout of ${seconds}s`, now)
    } else {
      this.fail(call, 504, 'ROOST_E_TIMEOUT', `no instance could take the request within the function's timeout of ${seconds}s`, now)
    }
    if (call.version.queue.length > 0) this.pump(call.version, now)
  }

  /** Requests that waited for the first routing table longer than tableWaitMs get 503. */
  private expireEarly (now: number): void {
    const early = this.early
    let kept = 0
    for (let i = 0; i < early.length; i++) {
      const res = early[i]
      if (res.destroyed) continue
      if (now - res.arrivedAt < this.tableWaitMs) {
        early[kept++] = res
        continue
      }
      sendProblem(res, 503, 'ROOST_E_NOT_READY', 'the gateway has not received its routing table yet (the platform is starting); retry shortly', null, { 'retry-after': '1' })
    }
    early.length = kept
  }

  /** Answers every request waiting for a version that cannot start. */
  startFailed (versionKey: string, reason: string): void {
    const version = this.versions.get(versionKey)
    if (version === undefined || version.hasReadyInstance()) return
    const now = performance.now()
    for (const call of version.queue.drain()) {
      this.finish(call, now)
      this.fail(call, 502, 'ROOST_E_START_FAILED', `${versionKey} could not start: ${reason}`, now)
    }
  }

  applyTable (table: RoutingTable): void {
    const now = performance.now()
    const versions = new Map<string, VersionState<Call>>()
    const functions: FunctionState[] = []
    const governance = new Map<string, { governance: FunctionGovernance, auth: CallerAuthenticator }>()
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
        lane: target.lane,
        value: versions.get(`${fn.namespace}/${fn.name}@${target.version}`) as VersionState<Call>
      })))
      const state: FunctionState = { fn, split, governance: null, auth: null, lanes: null }
      if (fn.governance !== undefined) this.governFunction(state, fn.governance, governance, now)
      functions.push(state)
    }
    // A function gone, or without governance now: its keyed limits give their keys back.
    for (const [key, old] of this.governance) if (!governance.has(key)) old.governance.release()
    this.governance = governance
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
    if (!this.tableApplied) this.releaseEarly()
  }

  /** A function's governance from its table entry; limiters, breakers and replay caches of the last table stay. */
  private governFunction (state: FunctionState, policy: FunctionPolicy, next: Map<string, { governance: FunctionGovernance, auth: CallerAuthenticator }>, now: number): void {
    let kept = this.governance.get(state.fn.key)
    if (kept === undefined) {
      kept = { governance: new FunctionGovernance(state.fn.key, policy, this.governanceEvents, now, this.keyBudgetOf(state.fn.namespace)), auth: new CallerAuthenticator(policy.auth, { callKey: this.callKey }) }
    } else {
      kept.governance.update(policy, now)
      kept.auth.update(policy.auth)
    }
    next.set(state.fn.key, kept)
    state.governance = kept.governance
    state.auth = policy.auth.mode === 'none' ? null : kept.auth
    state.lanes = policy.lanes.length > 0 ? new LaneMatcher(policy.lanes) : null
  }

  private keyBudgetOf (namespace: string): KeyBudget {
    let budget = this.namespaceKeyBudgets.get(namespace)
    if (budget === undefined) {
      budget = new KeyBudget(GOVERNANCE_BOUNDS.trackedKeysPerNamespace, this.keyBudget)
      this.namespaceKeyBudgets.set(namespace, budget)
    }
    return budget
  }

  /** The first table is in place: the requests that waited for it are routed now. */
  private releaseEarly (): void {
    this.tableApplied = true
    const early = this.early
    this.early = []
    for (const res of early) {
      if (res.destroyed || res.headersSent) continue
      const reserved = reservedPath(res.req.url ?? '/')
      if (reserved === Reserved.None) this.route(res.req, res, this.scan(res.req.forwardRaw ?? res.req.rawHeaders))
      else this.serveReserved(reserved, res.req, res)
    }
  }

  private applyInstances (table: RoutingTable, now: number): void {
    const instances = new Map<string, UpstreamInstance>()
    for (const routed of table.instances) {
      const version = this.versions.get(routed.versionKey)
      if (version === undefined) continue
      let instance = this.instances.get(routed.id)
      if (instance === undefined) instance = new UpstreamInstance(routed.id, routed.versionKey, routed.socketPath, routed.secret, version.config.concurrency, routed.state, now, this.instanceEvents)
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
  private orphaned (version: VersionState<Call>, now: number): void {
    for (const call of version.queue.drain()) {
      version.unlink(call, now)
      const fnKey = version.key.slice(0, version.key.lastIndexOf('@'))
      const target = this.routeAgain(fnKey)
      if (target === undefined) {
        call.state = CallState.Done
        this.fail(call, 404, 'ROOST_E_ROUTE_NOT_FOUND', `${fnKey} was deleted while the request waited`, now)
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
    const loop = performance.eventLoopUtilization()
    const elu = performance.eventLoopUtilization(loop, this.eluFrom).utilization
    this.eluFrom = loop
    const versions: VersionMetrics[] = []
    for (const version of this.versions.values()) versions.push(versionMetrics(version, now, intervalMs))
    for (const version of this.retired.values()) versions.push(versionMetrics(version, now, intervalMs))
    const instances: InstanceMetrics[] = []
    for (const instance of this.instances.values()) {
      instances.push({ id: instance.id, versionKey: instance.versionKey, inFlight: instance.inflight, concurrency: instance.takeConcurrency(now, intervalMs) })
    }
    const governance: Record<string, FunctionGovernanceState> = {}
    for (const [key, kept] of this.governance) if (kept.governance.hasRules) governance[key] = kept.governance.state(now)
    return { t: 'metrics', at: Date.now(), intervalMs, elu: Number.isFinite(elu) ? elu : 0, versions, instances, governance }
  }

  /** The gateway's series in the Prometheus text format: routed versions and retired ones with open requests. */
  exposition (): string {
    const now = performance.now()
    const governed: GovernedFunctionMetrics[] = []
    for (const [key, kept] of this.governance) governed.push({ key, governance: kept.governance, budgetLeft: kept.governance.retryBudget.remaining(now) })
    return renderGatewayMetrics([...this.versions.values(), ...this.retired.values()], { shedTotal: this.shedTotal, lagMs: this.shedder.lagMs }, {
      rejections: this.rejections, retriesTotal: this.retriesTotal, functions: governed, now
    })
  }

  /** The control plane's answer to a `scrape` report. */
  scrapeResult (id: number, text: string): void {
    this.scrapes.answer(id, text)
  }

  private serveMetrics (req: CallRequest, res: CallResponse): void {
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

  private routeAgain (fnKey: string): VersionState<Call> | undefined {
    const [namespace, name] = fnKey.split('/')
    const match = this.router.match(`/fn/${name}.${namespace}`)
    return match === null ? undefined : match.fn.split.pick(undefined)
  }

  private requestIdFor (given: string | undefined): string {
    if (given !== undefined && REQUEST_ID_PATTERN.test(given)) return given
    return `${this.requestIdPrefix}-${(++this.requestSequence).toString(36)}`
  }

  /** The few request headers routing needs, read from rawHeaders into a reused object (req.headers would build one per request). */
  private scan (raw: string[]): RequestFacts {
    const facts = this.facts
    facts.contentLength = undefined
    facts.transferEncoding = false
    facts.tag = undefined
    facts.requestId = undefined
    facts.lane = undefined
    facts.deadline = undefined
    facts.callToken = undefined
    facts.idempotencyKey = false
    facts.eventToken = undefined
    facts.callId = undefined
    facts.passedCaller = undefined
    facts.eventHeaders = false
    facts.cloudEvent = CloudEventMode.None
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]
      switch (name.length) {
        case 14: {
          const lower = name.toLowerCase()
          if (lower === 'content-length') facts.contentLength ??= raw[i + 1]
          else if (lower === 'x-roost-caller') facts.passedCaller ??= raw[i + 1]
          else if (lower === 'ce-specversion' && facts.cloudEvent === CloudEventMode.None) facts.cloudEvent = CloudEventMode.Binary
          break
        }
        case 17:
          if (name.toLowerCase() === 'transfer-encoding') facts.transferEncoding = true
          break
        case 11:
          if (facts.tag === undefined && name.toLowerCase() === 'x-roost-tag') facts.tag = raw[i + 1]
          break
        case 12: {
          const lower = name.toLowerCase()
          if (lower === 'content-type') {
            // The Content-Type decides the CloudEvents mode; an ordinary one is cleared by its length or first letters.
            const value = raw[i + 1]
            if (value.length >= CLOUDEVENTS_MEDIA_MIN_LENGTH && isCloudEventsMediaType(value)) facts.cloudEvent = CloudEventMode.Structured
          } else if (lower === 'x-request-id') facts.requestId ??= raw[i + 1]
          else if (lower === 'x-roost-lane') facts.lane ??= raw[i + 1]
          else if (lower === 'x-roost-call') facts.callToken ??= raw[i + 1]
          break
        }
        case 16:
          if (name.toLowerCase() === 'x-roost-deadline') facts.deadline ??= raw[i + 1]
          break
        case 15: {
          const lower = name.toLowerCase()
          if (lower === 'idempotency-key') facts.idempotencyKey = true
          else if (lower === 'x-roost-call-id') {
            facts.callId ??= raw[i + 1]
            facts.eventHeaders = true
          }
          break
        }
        // Authorization and Cache-Control are 13 long too: the first letter spares them the lower-casing.
        case 13:
          if ((name.charCodeAt(0) | 32) === 120 /* x */ && name.toLowerCase() === 'x-roost-event') facts.eventHeaders = true
          break
        case 19:
          if ((name.charCodeAt(0) | 32) === 120 && name.toLowerCase() === 'x-roost-event-token') {
            facts.eventToken ??= raw[i + 1]
            facts.eventHeaders = true
          }
          break
      }
    }
    return facts
  }

  /** Fills `headers` with what the instance is sent; throws GatewayError if the head would not fit a frame. */
  private forwardHeaders (call: Call, headers: string[]): void {
    const { req, requestId, prefix } = call
    const raw = req.forwardRaw ?? req.rawHeaders
    const events = call.events
    let n = 0
    let size = 0
    let forwardedFor: string | undefined
    let host: string | undefined
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]
      if (events !== EventHeaders.None && isEventHeader(name)) {
        // The token is never passed on; the rest only on a delivery.
        if (events === EventHeaders.Strip || name.length === 19) continue
      } else if (INSPECTED_HEADER_LENGTHS.has(name.length)) {
        const lower = name.toLowerCase()
        if (DROPPED_REQUEST_HEADERS.has(lower)) {
          if (lower === 'x-forwarded-for') forwardedFor = raw[i + 1]
          continue
        }
        if (lower === 'host') host = raw[i + 1]
      }
      if (name.length > MAX_FIELD) throw new GatewayError(`a header name of ${name.length} bytes does not fit the request head`)
      const value = raw[i + 1]
      size += name.length + value.length
      headers[n++] = name
      headers[n++] = value
    }
    // A delivery handed over in this process comes from the platform itself, on this machine.
    const client = req.socket?.remoteAddress ?? LOOPBACK
    headers[n++] = 'x-request-id'
    headers[n++] = requestId
    headers[n++] = 'x-forwarded-for'
    headers[n++] = forwardedFor === undefined ? client : `${forwardedFor}, ${client}`
    headers[n++] = 'x-forwarded-proto'
    headers[n++] = 'http'
    headers[n++] = 'x-forwarded-prefix'
    headers[n++] = prefix
    if (host !== undefined) {
      headers[n++] = 'x-forwarded-host'
      headers[n++] = host
    }
    if (call.caller !== '' && call.caller !== ANONYMOUS) {
      headers[n++] = 'x-roost-caller'
      headers[n++] = call.caller
    }
    if (call.lane !== undefined) {
      headers[n++] = 'x-roost-lane'
      headers[n++] = call.lane
    }
    headers.length = n
    if (n / 2 > MAX_FIELD || size + (req.url?.length ?? 0) + 3 * n > MAX_DATA_PAYLOAD_BYTES) {
      throw new GatewayError(`the request's head (${n / 2} headers) is larger than an instance accepts`)
    }
  }
}

/** The gateway's own answer per cause, when the rule names no fallback for it. */
const REJECTION_PROBLEMS = {
  'rate-limited': { status: 429, code: 'ROOST_E_RATE_LIMITED', detail: 'the request is over a rate limit of the function' },
  'concurrency-limited': { status: 429, code: 'ROOST_E_CONCURRENCY_LIMITED', detail: 'the function has as many requests in flight as a rule allows' },
  'breaker-open': { status: 503, code: 'ROOST_E_BREAKER_OPEN', detail: 'the function\'s circuit breaker is open: it failed too often lately' },
  overloaded: { status: 503, code: 'ROOST_E_OVERLOADED', detail: 'the function is overloaded' },
  'timed-out': { status: 504, code: 'ROOST_E_TIMEOUT', detail: 'the function did not answer in time' }
} as const

/** A rule's provided response (OpenSergo HttpRequestFallbackAction); its own headers win over the gateway's. */
function writeFallback (res: ProxyResponse, fallback: Extract<Fallback, { kind: 'response' }>, headers: Record<string, string>, requestId: string): void {
  const out: Record<string, string | number> = { ...headers, 'x-request-id': requestId }
  for (const [name, value] of fallback.headers) out[name.toLowerCase()] = value
  if (out['content-type'] === undefined) out['content-type'] = 'text/plain; charset=utf-8'
  const body = Buffer.from(fallback.body, 'utf8')
  out['content-length'] = body.length
  try {
    res.writeHead(fallback.status, out)
    res.end(body)
  } catch {
    // A header value node refuses was checked at apply; a caller gone meanwhile is nobody's fault.
    res.destroy()
  }
}

/** /healthz, /metrics (a query string aside), /async/… and /_roost/… are the gateway's own, whatever the routes. */
function reservedPath (url: string): Reserved {
  // The second character tells /async/ and /_roost/ from nearly every other path.
  const second = url.charCodeAt(1)
  if (second === 97 /* a */ && url.startsWith(ASYNC_PREFIX) && url.charCodeAt(ASYNC_PREFIX.length) === 47 /* / */) return Reserved.Async
  if (second === 95 /* _ */ && url.startsWith(INTERNAL_PREFIX)) return Reserved.Internal
  // /healthz and /metrics are 8 characters long: one length test lets every other request through.
  if (url.length !== 8 && (url.length < 8 || url.charCodeAt(8) !== 63 /* ? */)) return Reserved.None
  if (url.startsWith('/healthz')) return Reserved.Health
  if (url.startsWith('/metrics')) return Reserved.Metrics
  return Reserved.None
}

const EMPTY = Buffer.alloc(0)

/** `Expect: 100-continue`: the request was found acceptable, the caller may send its body. */
function continueIfAsked (res: ProxyResponse): void {
  if (!res.expectContinue) return
  res.expectContinue = false
  res.shouldKeepAlive = res.keepAliveAfterContinue
  res.writeContinue()
}

/** x-roost-event (13), x-roost-call-id (15), x-roost-event-token (19); only asked of requests that have one. */
function isEventHeader (name: string): boolean {
  const length = name.length
  if (length !== 13 && length !== 15 && length !== 19) return false
  const lower = name.toLowerCase()
  return lower === 'x-roost-event' || lower === 'x-roost-call-id' || lower === 'x-roost-event-token'
}

function versionMetrics (version: VersionState<Call>, now: number, intervalMs: number): VersionMetrics {
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

/** A protocol upgrade (WebSocket) would otherwise become a plain request: refuse it, saying so. */
function rejectUpgrade (req: CallRequest, socket: Socket): void {
  writeSocketProblem(socket, 501, 'ROOST_E_UPGRADE_UNSUPPORTED', `the gateway does not support protocol upgrades (asked: ${String(req.headers.upgrade)}); WebSockets are not supported yet: use plain requests, or a streamed response (SSE)`)
}
