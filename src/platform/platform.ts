import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { pino, type Logger } from 'pino'
import { createApiServer, type BrokerQueues, type FunctionSpec, type LiveView } from '../api/index.js'
import { Autoscaler, MachineCpu, type ScalingDecision } from '../autoscaler/index.js'
import { BundleFiles, FunctionController } from '../controllers/index.js'
import { StartupError } from '../errors/index.js'
import { EventStore } from '../events/index.js'
import { GatewayHandle, type FunctionGovernanceState } from '../gateway/index.js'
import { PlatformCallKey } from '../governance/index.js'
import { InstanceManager, LocalProcessDriver, versionKey } from '../instances/index.js'
import { AsyncInvocations, answerQueuePublish, declareAsyncQueue, type DestinationOutcome } from '../invocations/index.js'
import { NamespaceIdentities } from '../isolation/index.js'
import { ControlPlaneMetrics, joinExpositions } from '../metrics/index.js'
import { Store } from '../store/index.js'
import { lockHome, raiseFileLimit, readClientConfig, writeClientConfig, type ClientConfig, type FileLimitChange, type RoostHome } from '../home/index.js'
import { EventWiring } from './event-wiring.js'
import { LogWriter } from './log-writer.js'

export interface PlatformOptions {
  home: RoostHome
  /** Where the database and bundles live; default `$ROOST_HOME/data`. */
  dataDir?: string
  host?: string
  gatewayPort?: number
  apiPort?: number
  /** Largest request body the gateway passes to a function, in bytes. */
  bodyLimit?: number
  /** Requests one version may hold waiting for an instance. */
  queueLimit?: number
  logLevel?: string
  /** Idle runtime processes kept ready per memory size; 0 starts every instance from scratch. */
  warmPoolSize?: number
  /** Time between two liveness pings of an instance. */
  livenessIntervalMs?: number
  /** How instances are isolated; by default as much as this machine allows (see docs/isolation.md). */
  isolation?: { switchUids?: boolean, cgroups?: boolean, permissionModel?: boolean }
  /** Async calls' X-Callback-Url may name loopback, private and link-local receivers (off by default: the caller picks the URL). */
  allowPrivateCallbacks?: boolean
  /** Broker URLs that functions applied with a namespace token may name in their triggers (the admin token may name any). */
  allowedBrokers?: readonly string[]
  /** Called when the platform cannot go on (its gateway thread died); it has stopped by then. */
  onFatal?: (err: Error) => void
  /** The gateway's fast path (GatewayOptions.fastPath); on by default, off in a benchmark to show its worth. */
  fastPath?: boolean
}

/**
 * What the event dispatcher (delivery of queue messages, cron firings and
 * async invocations) connects to; docs/event-delivery.md. Set before it may be
 * called: until then a publish only lands in the store.
 */
export interface EventHooks {
  /** Messages or an async invocation were written to this queue: deliver them now. */
  onPublished: (namespace: string, queue: string) => void
  /** The broker triggers' queues, once the event wiring exists: publishes to them go to their broker. */
  brokers?: BrokerQueues
}

/** The event reasons of breaker transitions, by the state entered. */
const BREAKER_REASONS: Record<string, string> = { open: 'CircuitBreakerOpened', 'half-open': 'CircuitBreakerHalfOpen', closed: 'CircuitBreakerClosed' }

const DEFAULTS = { host: '127.0.0.1', gatewayPort: 8080, apiPort: 7070, bodyLimit: 6 * 1024 * 1024, queueLimit: 1000, warmPoolSize: 2 }
const LOG_LINES_PER_FUNCTION = 10_000
const EVENTS_PER_FUNCTION = 200
const HOUSEKEEPING_INTERVAL_MS = 60_000
const ADMIN_TOKEN_SETTING = 'adminTokenId'

/**
 * One Roost on one machine: the control plane (store, API, controllers,
 * instance manager) on this thread, the gateway on a worker thread of its own.
 */
export class Platform {
  private stopping: Promise<void> | null = null
  private readonly housekeeping: NodeJS.Timeout

  private constructor (
    readonly config: ClientConfig,
    private readonly store: Store,
    /** The durable event records (events.db): queues, async invocations, cron firings. */
    readonly events: EventStore,
    /** The run's event secret (64 hex): the dispatcher's deliveries carry it in x-roost-event-token. */
    readonly eventToken: string,
    /** The dispatcher's hooks; replace onPublished to hear of new records. */
    readonly eventHooks: EventHooks,
    private readonly asyncInvocations: AsyncInvocations,
    /** Declared queues, the dispatcher and the cron scheduler. */
    private readonly eventWiring: EventWiring,
    private readonly gateway: GatewayHandle,
    private readonly instances: InstanceManager,
    private readonly autoscaler: Autoscaler,
    private readonly controller: FunctionController,
    private readonly logs: LogWriter,
    private readonly api: Awaited<ReturnType<typeof createApiServer>>,
    private readonly unlock: () => void,
    readonly logger: Logger,
    /** What was done about the process's file-descriptor limit at start. */
    readonly fileLimit: FileLimitChange
  ) {
    this.housekeeping = setInterval(() => {
      store.pruneEvents(EVENTS_PER_FUNCTION)
      // Finished records past their queue's retention (24 h): a bounded batch per round.
      if (events.isOpen) events.prune()
    }, HOUSEKEEPING_INTERVAL_MS)
    this.housekeeping.unref()
  }

  static async start (options: PlatformOptions): Promise<Platform> {
    const home = options.home
    const host = options.host ?? DEFAULTS.host
    const unlock = lockHome(home)
    const logger = pino({ level: options.logLevel ?? 'info', base: undefined }, pino.destination({ dest: home.logPath, mkdir: true, sync: false }))
    const cleanup: Array<() => Promise<void> | void> = [unlock]
    try {
      // The data key lives beside the data, not in it: a copy of the data folder alone reveals no env value.
      const dataDir = options.dataDir ?? join(home.root, 'data')
      const store = Store.open(dataDir, { keyFile: home.keyPath })
      const fileLimit = raiseFileLimit()
      cleanup.unshift(() => store.close())
      const events = EventStore.open(dataDir)
      cleanup.unshift(() => events.close())
      // Every function has its async queue; its policy (retries, maximum age) lives in memory and is declared each run.
      for (const fn of store.listResources('Function')) declareAsyncQueue(events, fn.namespace, fn.name)
      const eventHooks: EventHooks = { onPublished: () => {} }
      const logs = new LogWriter(store, LOG_LINES_PER_FUNCTION)
      cleanup.unshift(() => logs.close())

      const metrics = new ControlPlaneMetrics()
      // One key per run proves a request came from a function of this platform (private functions, passed-on deadlines).
      const callKey = PlatformCallKey.generate()
      // And one secret per run proves a request is an event delivery of this control plane.
      const eventToken = randomBytes(32).toString('hex')
      // Set once recordEvent exists: a result dropped on the way to its destination is a Warning event of its function.
      let destinationDropped = (outcome: DestinationOutcome): void => { logger.warn(outcome, 'result not delivered to its destination') }
      const asyncInvocations = new AsyncInvocations(events, {
        callbacks: { allowPrivate: options.allowPrivateCallbacks === true },
        onSubmitted: (namespace, queue) => eventHooks.onPublished(namespace, queue),
        functionOf: (namespace, name) => store.getResource<FunctionSpec>('Function', namespace, name)?.spec,
        onDestination: (outcome) => {
          if (outcome.delivered) logger.info({ invocation: outcome.callId, destination: outcome.destination }, 'result delivered to its destination')
          else destinationDropped(outcome)
        },
        onCallback: (id, outcome) => {
          if (outcome.delivered) logger.info({ invocation: id, callback: outcome.url, tries: outcome.tries }, 'callback delivered')
          else logger.warn({ invocation: id, callback: outcome.url, tries: outcome.tries, status: outcome.status, error: outcome.error }, 'callback not delivered')
        }
      })
      cleanup.unshift(() => asyncInvocations.close())
      const gateway = await GatewayHandle.start({
        host,
        callKey: callKey.bytes(),
        eventToken,
        publish: (request) => answerQueuePublish(events, request, {
          onPublished: (namespace, queue) => eventHooks.onPublished(namespace, queue),
          brokerOf: (namespace, queue) => {
            const brokers = eventHooks.brokers
            if (brokers?.status(namespace, queue) === undefined) return undefined
            return (records) => brokers.publishRecords(namespace, queue, records)
          }
        }),
        invokeAsync: (request) => asyncInvocations.submit(request),
        port: options.gatewayPort ?? DEFAULTS.gatewayPort,
        bodyLimit: options.bodyLimit ?? DEFAULTS.bodyLimit,
        fastPath: options.fastPath,
        scrapeControlPlane: () => metrics.text()
      })
      cleanup.unshift(() => gateway.close())

      let controller: FunctionController | undefined
      // The instance manager reports usage before the autoscaler exists: its hooks reach it through this.
      let scaler: Autoscaler | undefined
      // And its changes (ready instances) reach the dispatcher, made once the autoscaler is.
      let wiring: EventWiring | undefined
      // In flight per instance, as of the gateway's last report: for `roost get instances`, and to stop an idle one first.
      let inFlight = new Map<string, number>()
      const recordEvent = (namespace: string, name: string, type: 'Normal' | 'Warning', reason: string, message: string): void => {
        store.recordEvent({ namespace, kind: 'Function', name, type, reason, message })
        // A Warning event is a problem someone should look at: it is logged as one.
        logger[type === 'Warning' ? 'warn' : 'info']({ event: { namespace, function: name, type, reason } }, message)
      }
      destinationDropped = (outcome) => recordEvent(outcome.namespace, outcome.function, 'Warning', 'ResultNotDelivered', `invocation ${outcome.callId}: result not delivered to ${outcome.destination}: ${outcome.reason ?? 'unknown'}`)
      const driver = new LocalProcessDriver({ home: home.root, ...options.isolation })
      // A namespace keeps its uid across restarts: files its instances wrote stay its own.
      const identities = new NamespaceIdentities({ known: readNamespaceUids(store), persist: (namespace, uid) => writeNamespaceUid(store, namespace, uid) })
      const identityOf = driver.isolation().switchesUids ? (namespace: string) => identities.identityOf(namespace) : null
      const instances = new InstanceManager(driver, {
        onChange: () => {
          controller?.instancesChanged()
          const list = instances.list()
          metrics.setInstances(list)
          wiring?.instancesChanged(list)
        },
        onLogs: (lines) => logs.write(lines),
        onEvent: (event) => recordEvent(event.namespace, event.function, event.type, event.reason, event.message),
        onStartFailed: (key, reason) => {
          gateway.startFailed(key, reason)
          controller?.startFailed(key, reason)
        },
        onStarted: (info, startMs, pooled) => metrics.coldStart({ namespace: info.namespace, name: info.function, version: info.version }, startMs / 1000, pooled),
        onPoolChange: (size) => metrics.warmPoolSize(size),
        onUsage: (instanceId, key, elu, cpuUs) => scaler?.observeInstance({ versionKey: key, instanceId, at: Date.now(), elu, cpuUs }),
        onGone: (instanceId) => scaler?.forgetInstance(instanceId)
      }, {
        calls: { gatewayUrl: gateway.url, tokenOf: (namespace, name) => callKey.mint(namespace, name) },
        warmPool: { size: options.warmPoolSize ?? DEFAULTS.warmPoolSize },
        livenessIntervalMs: options.livenessIntervalMs,
        identityOf: identityOf ?? undefined,
        inFlightOf: (instanceId) => inFlight.get(instanceId) ?? 0
      })
      cleanup.unshift(() => instances.stop())
      // The pool fills now, so that the first functions start from it.
      instances.start()
      const autoscaler = new Autoscaler({ scale: (key, replicas) => instances.scale(key, replicas) }, {
        onDecision: (decision: ScalingDecision) => {
          const { fn } = decision
          recordEvent(fn.namespace, fn.name, 'Normal', decision.to > decision.from ? 'ScaledUp' : 'ScaledDown', decision.message)
          metrics.scalingDecision(fn, decision.to > decision.from ? 'up' : 'down', decision.to)
        }
      })
      scaler = autoscaler
      cleanup.unshift(() => autoscaler.stop())
      controller = new FunctionController(store, instances, autoscaler, gateway, new BundleFiles(store.blobs, { dir: driver.bundlesDir, identityOf }), { queueLimit: options.queueLimit ?? DEFAULTS.queueLimit })
      const functions = controller
      const eventWiring = new EventWiring({
        store,
        events,
        deliver: gateway.deliveries.deliver,
        eventToken,
        activate: (key) => {
          instances.demand(key)
          autoscaler.activate(key)
        },
        serving: (namespace, name) => functions.serving(namespace, name),
        invocationSettled: (id) => asyncInvocations.settled(id),
        recordEvent,
        logger
      })
      wiring = eventWiring
      eventHooks.onPublished = (namespace, queue) => eventWiring.notify(namespace, queue)
      eventHooks.brokers = eventWiring.brokers
      cleanup.unshift(() => eventWiring.stop())
      const machineCpu = new MachineCpu()
      gateway.on('metrics', (report) => {
        const machine = machineCpu.sample()
        if (machine !== null) autoscaler.observeMachine({ ...machine, proxyElu: report.elu })
        autoscaler.observe(report)
        // The queues' backlog in the same windows as the gateway's load: the queue metric.
        autoscaler.observeQueues(eventWiring.queueReport(report.at))
        metrics.setQueues(eventWiring.queueGauges())
        inFlight = new Map(report.instances.map((instance) => [instance.id, instance.inFlight]))
        governance = report.governance
      })
      gateway.on('demand', (key) => {
        instances.demand(key)
        autoscaler.activate(key)
      })
      // The live state of each function's rules, as of the gateway's last report: for `roost describe function`.
      let governance: Record<string, FunctionGovernanceState> = {}
      gateway.on('governance', (fn, event) => {
        const [namespace, name] = fn.split('/')
        if (event.kind === 'breaker') {
          recordEvent(namespace, name, event.to === 'open' ? 'Warning' : 'Normal', BREAKER_REASONS[event.to] ?? 'CircuitBreaker', `${event.rule}: breaker ${event.breaker} ${event.from} → ${event.to}: ${event.reason}`)
        } else {
          recordEvent(namespace, name, 'Warning', 'RequestsRejected', `${event.rule}: ${event.strategy} began refusing requests (${event.cause}); further refusals of this burst are counted in roost_governance_rejected_total, not recorded`)
        }
      })
      gateway.on('suspect', (instanceId) => instances.suspect(instanceId))
      gateway.on('violation', (instanceId, reason) => instances.violation(instanceId, reason))
      controller.start()
      autoscaler.start()
      cleanup.unshift(() => controller?.stop())
      eventWiring.start()
      eventWiring.instancesChanged(instances.list())

      const live: LiveView = {
        instances: () => instances.list().map((instance) => ({ ...instance, inFlight: inFlight.get(instance.id) ?? 0 })),
        serving: (namespace, name) => controller?.serving(namespace, name),
        startFailure: (namespace, name, version) => controller?.startFailure(namespace, name, version),
        scaling: (namespace, name, version) => autoscaler.status(versionKey(namespace, name, version)),
        governance: (namespace, name) => governance[`${namespace}/${name}`],
        isolation: (namespace) => {
          const { mode, details } = instances.isolation()
          if (identityOf === null) return { mode, details }
          return { mode, details: [`instances of namespace ${namespace} run as uid ${identityOf(namespace).uid}`, ...details] }
        },
        metrics: async () => joinExpositions(await gateway.scrape(), await metrics.text()),
        settle: () => {
          // Queues first: a publish that follows the apply's answer finds the queue declared.
          eventWiring.reconcile()
          return settled(controller?.settle() ?? Promise.resolve())
        },
        queuePublished: (namespace, queue) => eventWiring.notify(namespace, queue),
        brokerQueues: eventWiring.brokers,
        onLogs: (listener) => logs.subscribe(listener)
      }
      const api = await createApiServer({ store, live, events, allowedBrokers: options.allowedBrokers })
      const apiPort = options.apiPort ?? DEFAULTS.apiPort
      try {
        await api.listen({ host, port: apiPort })
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        throw new StartupError(`the API cannot listen on ${host}:${apiPort}: ${(err as Error).message}`, {
          hint: code === 'EADDRINUSE' ? `another program listens on ${host}:${apiPort}; pass --api-port to use another` : 'check the --api-port flag'
        })
      }
      const address = api.server.address()
      const boundApiPort = typeof address === 'object' && address !== null ? address.port : apiPort
      const config: ClientConfig = { api: `http://${host}:${boundApiPort}`, gateway: gateway.url, token: adminToken(store, home) }
      writeClientConfig(home, config)
      logger.info({ api: config.api, gateway: config.gateway, isolation: instances.isolation(), fileLimit }, 'roost is up')
      const platform = new Platform(config, store, events, eventToken, eventHooks, asyncInvocations, eventWiring, gateway, instances, autoscaler, controller, logs, api, unlock, logger, fileLimit)
      // Without its data plane the platform would take applies it can never serve: stop it all.
      gateway.on('exit', (code) => {
        if (platform.stopping !== null) return
        const err = new StartupError(`the gateway thread exited (code ${code})`, { hint: `see ${home.logPath}; start roost up again` })
        logger.fatal({ code }, err.message)
        void platform.stop().then(() => options.onFatal?.(err))
      })
      return platform
    } catch (err) {
      for (const step of cleanup) await step()
      throw err
    }
  }

  /**
   * The dispatcher settled the invocation record `id`: a caller waiting for it
   * (`?wait=`) is answered, and once it is final its X-Callback-Url gets the result.
   */
  invocationSettled (id: string): void {
    this.asyncInvocations.settled(id)
  }

  /** Which isolation instances run under here: mode and what it means, for `roost up` and `describe`. */
  isolation (): { mode: string, details: string[] } {
    return this.instances.isolation()
  }

  /** Stops taking requests, stops every instance, then closes the store. Safe to call twice. */
  stop (): Promise<void> {
    this.stopping ??= this.shutdown()
    return this.stopping
  }

  private async shutdown (): Promise<void> {
    this.logger.info('stopping')
    clearInterval(this.housekeeping)
    await this.api.close()
    // Before the gateway and the instances go: deliveries in flight may still finish through them.
    await this.eventWiring.stop()
    this.autoscaler.stop()
    this.controller.stop()
    await this.gateway.close()
    await this.asyncInvocations.close()
    await this.instances.stop()
    this.logs.close()
    this.events.close()
    this.store.close()
    this.unlock()
    this.logger.info('stopped')
    this.logger.flush()
  }
}

/** Reuses the admin token of the config file when this store knows it; else mints one. */
function adminToken (store: Store, home: RoostHome): string {
  const existing = readClientConfig(home)
  if (existing !== undefined) {
    const found = store.lookupToken(existing.token)
    if (found !== undefined && found.namespace === '*') return existing.token
  }
  const created = store.createToken({ namespace: '*', description: 'admin token written by roost up' })
  store.setSetting(ADMIN_TOKEN_SETTING, created.id)
  return created.token
}

const NAMESPACE_UIDS_SETTING = 'namespaceUids'

function readNamespaceUids (store: Store): Array<[string, number]> {
  const text = store.getSetting(NAMESPACE_UIDS_SETTING)
  if (text === undefined) return []
  const parsed = JSON.parse(text) as Record<string, number>
  return Object.entries(parsed)
}

function writeNamespaceUid (store: Store, namespace: string, uid: number): void {
  const known = Object.fromEntries(readNamespaceUids(store))
  known[namespace] = uid
  store.setSetting(NAMESPACE_UIDS_SETTING, JSON.stringify(known))
}

/** A write waits this long at most for the data plane to route it: an answer is never held hostage by a stuck worker. */
const SETTLE_TIMEOUT_MS = 2_000

function settled (routed: Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, SETTLE_TIMEOUT_MS)
    timer.unref()
    routed.then(() => { clearTimeout(timer); resolve() }, () => { clearTimeout(timer); resolve() })
  })
}
