import { MessageChannel, Worker } from 'node:worker_threads'
import { EventEmitter, once } from 'node:events'
import { problemTitle, StartupError } from '../errors/index.js'
import { DeliveryChannel } from './delivery-channel.js'
import { PendingAnswers } from './pending-answers.js'
import type {
  AsyncInvocationRequest, ControlAnswer, GatewayCommand, GatewayMetricsReport, GatewayOptions, GatewayReport, GovernanceEvent, PublishRequest, RoutingTable
} from './routing-table.js'

export { Gateway } from './gateway.js'
export { MAX_WAIT_MS } from './async-request.js'
export type { ChannelAnswer, ChannelRequest, DeliveryChannel } from './delivery-channel.js'
export { MAX_ANSWER_BYTES } from './delivery-messages.js'
export type {
  AsyncInvocationRequest, ControlAnswer, GatewayMetricsReport, GatewayOptions, GovernanceEvent, InstanceMetrics, PublishRequest, RoutingTable, RoutedFunction, RoutedInstance, RoutedVersion,
  TrafficTarget, VersionMetrics
} from './routing-table.js'
export type { FunctionGovernanceState, RuleState } from './function-governance.js'
// The per-function rules as the gateway runs them, for benchmarks that time their own work per request.
export { FunctionGovernance, newAdmission } from './function-governance.js'
export type { Admission, GovernedRequest } from './function-governance.js'

export interface GatewayStartOptions extends GatewayOptions {
  /**
   * The control plane's Prometheus text, appended to the gateway's own when
   * GET /metrics reaches the gateway port. A throw or rejection answers ''.
   */
  scrapeControlPlane?: () => Promise<string>
  /** Publishes what a function sends to /_roost/queues/<queue>/messages; without it such a publish is answered 503. */
  publish?: (request: PublishRequest) => ControlAnswer | Promise<ControlAnswer>
  /** Stores an async call (/async/…) and answers it, after the wait it asks for; without it async calls are answered 503. */
  invokeAsync?: (request: AsyncInvocationRequest) => ControlAnswer | Promise<ControlAnswer>
}

/** The control plane's handlers of what the gateway hands over; functions cannot cross to the worker. */
interface ControlHandlers {
  scrapeControlPlane: (() => Promise<string>) | undefined
  publish: ((request: PublishRequest) => ControlAnswer | Promise<ControlAnswer>) | undefined
  invokeAsync: ((request: AsyncInvocationRequest) => ControlAnswer | Promise<ControlAnswer>) | undefined
}

export interface GatewayEvents {
  demand: [versionKey: string]
  suspect: [instanceId: string]
  /** The instance broke the data protocol; its connection is closed and it should be ended (a ProtocolViolation event). */
  violation: [instanceId: string, reason: string]
  /** Every `metricsIntervalMs` (1 s by default): the load per version and instance, for the autoscaler. */
  metrics: [report: GatewayMetricsReport]
  /** A breaker changed state, or a rule began refusing requests. */
  governance: [fn: string, event: GovernanceEvent]
  exit: [code: number]
}

/** How long `scrape()` waits for the worker before answering ''. */
const SCRAPE_TIMEOUT_MS = 2_000

/** The gateway running in its worker thread, seen from the control plane. */
export class GatewayHandle extends EventEmitter<GatewayEvents> {
  private readonly expositions = new PendingAnswers<string>(SCRAPE_TIMEOUT_MS, '')
  private exited = false
  private appliedRevision = 0
  private tableWaiters: Array<{ revision: number, resolve: () => void }> = []

  private constructor (
    private readonly worker: Worker,
    readonly host: string,
    readonly port: number,
    private readonly handlers: ControlHandlers,
    /** The run's event secret: what the dispatcher sends in x-roost-event-token (docs/event-delivery.md). */
    readonly eventToken: string | undefined,
    /** Deliveries of the control plane to the gateway, in this process: no HTTP on the way. */
    readonly deliveries: DeliveryChannel
  ) {
    super()
    worker.on('message', (message: GatewayReport) => {
      switch (message.t) {
        case 'demand': this.emit('demand', message.versionKey); break
        case 'suspect': this.emit('suspect', message.instanceId); break
        case 'violation': this.emit('violation', message.instanceId, message.reason); break
        case 'metrics': this.emit('metrics', message); break
        case 'governance': this.emit('governance', message.function, message.event); break
        case 'scrape': this.answerScrape(message.id); break
        case 'exposition': this.expositions.answer(message.id, message.text); break
        case 'table-applied': this.onTableApplied(message.revision); break
        case 'publish': {
          const { t, id, ...request } = message
          this.answerControl('publish-result', id, this.handlers.publish, request)
          break
        }
        case 'invoke-async': {
          const { t, id, ...request } = message
          this.answerControl('invoke-async-result', id, this.handlers.invokeAsync, request)
          break
        }
      }
    })
    worker.on('exit', (code) => {
      this.exited = true
      deliveries.close(`the gateway stopped (exit code ${code})`)
      for (const waiter of this.tableWaiters) waiter.resolve()
      this.tableWaiters = []
      this.expositions.abandon()
      this.emit('exit', code)
    })
  }

  static async start (options: GatewayStartOptions): Promise<GatewayHandle> {
    // A function cannot cross to the worker: it stays here and answers the worker's scrapes, publishes and async calls.
    const { scrapeControlPlane, publish, invokeAsync, ...workerOptions } = options
    const channel = new MessageChannel()
    const worker = new Worker(new URL('./gateway-worker.js', import.meta.url), { workerData: { ...workerOptions, deliveries: channel.port2 }, transferList: [channel.port2] })
    const [first] = await once(worker, 'message') as [GatewayReport]
    if (first.t === 'listen-failed') {
      channel.port1.close()
      await worker.terminate()
      const hint = first.code === 'EADDRINUSE' ? `another program listens on ${options.host}:${options.port}; pass --port to use another` : 'check the --port and --host flags'
      throw new StartupError(`the gateway cannot listen on ${options.host}:${options.port}: ${first.message}`, { hint })
    }
    if (first.t !== 'listening') {
      channel.port1.close()
      throw new StartupError(`the gateway sent ${first.t} before listening`)
    }
    const deliveries = new DeliveryChannel(channel.port1, `${first.host.includes(':') ? `[${first.host}]` : first.host}:${first.port}`)
    return new GatewayHandle(worker, first.host, first.port, { scrapeControlPlane, publish, invokeAsync }, options.eventToken, deliveries)
  }

  get url (): string {
    return `http://${this.host}:${this.port}`
  }

  pushTable (table: RoutingTable): void {
    this.send({ t: 'table', table })
  }

  /**
   * Resolves once the gateway applies a table of `revision` or later (at once
   * if it has, and if the gateway is gone); never rejects.
   */
  tableApplied (revision: number): Promise<void> {
    if (this.exited || this.appliedRevision >= revision) return Promise.resolve()
    return new Promise((resolve) => this.tableWaiters.push({ revision, resolve }))
  }

  private onTableApplied (revision: number): void {
    this.appliedRevision = Math.max(this.appliedRevision, revision)
    const waiting = this.tableWaiters
    this.tableWaiters = []
    for (const waiter of waiting) {
      if (waiter.revision <= this.appliedRevision) waiter.resolve()
      else this.tableWaiters.push(waiter)
    }
  }

  startFailed (versionKey: string, reason: string): void {
    this.send({ t: 'start-failed', versionKey, reason })
  }

  /** The gateway's own series in the Prometheus text format; '' if the worker does not answer within 2 s. Never rejects. */
  scrape (): Promise<string> {
    if (this.exited) return Promise.resolve('')
    return this.expositions.ask((id) => this.send({ t: 'expose', id }))
  }

  async close (): Promise<void> {
    const closed = new Promise<void>((resolve) => {
      const onMessage = (message: GatewayReport): void => { if (message.t === 'closed') resolve() }
      this.worker.on('message', onMessage)
      this.worker.once('exit', () => resolve())
    })
    this.send({ t: 'close' })
    await Promise.race([closed, new Promise((resolve) => setTimeout(resolve, 2000).unref())])
    await this.worker.terminate()
  }

  /** Answers the worker's GET /metrics with the control plane's text; whatever goes wrong, with ''. */
  private answerScrape (id: number): void {
    const reply = (text: unknown): void => this.send({ t: 'scrape-result', id, text: typeof text === 'string' ? text : '' })
    const scrape = this.handlers.scrapeControlPlane
    if (scrape === undefined) {
      reply('')
      return
    }
    let pending: Promise<string>
    try {
      pending = Promise.resolve(scrape())
    } catch {
      reply('')
      return
    }
    pending.then(reply, () => reply(''))
  }

  /** Answers a request the worker handed over with what the handler makes of it; a handler missing or failing answers for it. */
  private answerControl<R> (t: 'publish-result' | 'invoke-async-result', id: number, handler: ((request: R) => ControlAnswer | Promise<ControlAnswer>) | undefined, request: R): void {
    const reply = (answer: ControlAnswer): void => this.send({ t, id, answer })
    if (handler === undefined) {
      reply(problemAnswer(503, 'ROOST_E_NOT_READY', 'this gateway hands no events to a control plane (it was started without one)'))
      return
    }
    let pending: Promise<ControlAnswer>
    try {
      pending = Promise.resolve(handler(request))
    } catch (err) {
      pending = Promise.reject(err)
    }
    pending.then(reply, (err: unknown) => reply(problemAnswer(500, 'ROOST_E_INTERNAL', `the control plane failed: ${err instanceof Error ? err.message : String(err)}`)))
  }

  private send (command: GatewayCommand): void {
    if (this.exited) return
    this.worker.postMessage(command)
  }
}

function problemAnswer (status: number, code: string, detail: string): ControlAnswer {
  return {
    status,
    headers: { 'content-type': 'application/problem+json' },
    body: JSON.stringify({ type: `https://roost.dev/errors/${code}`, title: problemTitle(code), status, code, detail })
  }
}
