import { randomBytes } from 'node:crypto'
import { NamespaceIdentities, type Identity } from '../isolation/index.js'
import { backoffDelay } from './backoff.js'
import type { ControlLogLine, FunctionRef, LoadMessage, LogLevel, LogStream } from './control-messages.js'
import type { Driver, InstanceEvents, InstanceExit, PongReport, RunningInstance } from './driver.js'
import { DEFAULT_MEMORY_MIB, WarmPool, type WarmProcessInfo } from './warm-pool.js'

/** What the controllers want running for one function version. */
/** How long a spawned process may take to be ready for `load`, on a busy machine. */
const SPAWN_TIMEOUT_MS = 30_000

export interface VersionTarget {
  key: string
  fn: FunctionRef
  /** Readable by the namespace's uid (see controllers/bundle-files.ts). */
  bundlePath: string
  env: Record<string, string>
  timeoutMs: number
  memoryMiB: number
  /** Instances wanted now (the autoscaler's desired count); 0 lets the version have none. */
  replicas: number
}

export type InstanceState = 'starting' | 'ready' | 'draining'

export interface InstanceInfo {
  id: string
  namespace: string
  function: string
  version: number
  versionKey: string
  state: InstanceState
  pid: number | null
  /** The data socket, once the instance listens on it. */
  socketPath: string | null
  startedAt: number
  readyAt: number | null
  /** The process came from the warm pool (false: spawned for this instance). */
  pooled: boolean
  /** From its latest pong (null before one): event-loop utilisation since the pong before, 0…1. */
  elu: number | null
  /** From its latest pong: user + system CPU time of the process so far, µs. */
  cpuUs: number | null
}

/** What the gateway needs to reach an instance; the secret is never shown to users. */
export interface InstanceRoute {
  id: string
  versionKey: string
  state: InstanceState
  socketPath: string
  secret: string
}

export interface InstanceCounts {
  starting: number
  ready: number
  draining: number
}

export interface InstanceLogLine extends ControlLogLine {
  namespace: string
  function: string
  version: number
  instance: string
}

export interface InstanceEvent {
  namespace: string
  function: string
  type: 'Normal' | 'Warning'
  reason: string
  message: string
}

export interface InstanceManagerHooks {
  /** The set of instances or one's state changed: the routing table is stale. */
  onChange (): void
  onLogs (lines: InstanceLogLine[]): void
  onEvent (event: InstanceEvent): void
  /** A start of this version failed, or starts back off: requests waiting for it should be answered. */
  onStartFailed (versionKey: string, reason: string): void
  /**
   * An instance became ready. `startMs` runs from the moment the manager
   * decided to start it; `pooled` tells whether it came from the warm pool.
   */
  onStarted? (info: InstanceInfo, startMs: number, pooled: boolean): void
  /** An instance reported its event-loop utilisation and CPU time (with each pong). */
  onUsage? (instanceId: string, versionKey: string, elu: number, cpuUs: number): void
  /** An instance is gone, for whatever reason. */
  onGone? (instanceId: string): void
  /** The number of idle processes in the warm pool changed. */
  onPoolChange? (size: number): void
}

export interface InstanceManagerOptions {
  /** How long a ping sent after a request timed out may go unanswered before the instance is taken as stuck (default 1000). */
  pingTimeoutMs?: number
  /** Every ready instance is pinged this often (default 1000: the pongs carry the CPU use the autoscaler caps on). */
  livenessIntervalMs?: number
  /**
   * How long a periodic liveness ping may go unanswered (default 10000). Longer
   * than pingTimeoutMs: a handler may block its event loop for a while on
   * purpose (CPU work), and only a timed-out request is evidence of a hang.
   */
  livenessTimeoutMs?: number
  /** Time the gateway gets to stop routing to an instance before it is told to drain (default 100). */
  drainDelayMs?: number
  /** Idle processes kept ready per memory size (default 2); 0: every instance is a fresh spawn. */
  warmPool?: { size: number }
  /** How long an instance may take from the decision to start it to ready (default 10000): a module that spins at load is killed. */
  startTimeoutMs?: number
  /**
   * The uid and gid a namespace's instances run as, when the driver switches
   * uids. Must be stable across restarts (default: assigned in memory, from 200000).
   */
  identityOf?: (namespace: string) => Identity
  /** Where functions call other functions, and the call token each function's instances call with (docs/caller-identity.md). */
  calls?: { gatewayUrl: string, tokenOf: (namespace: string, name: string) => string }
  /**
   * Requests (queue batches included) in flight on an instance, as the gateway
   * last reported: a scale-down stops an idle instance where there is one,
   * so that no work has to drain. Default: none known (the newest goes).
   */
  inFlightOf?: (instanceId: string) => number
}

interface StartBackoff {
  failures: number
  notBefore: number
  reason: string
}

type ProbeReason = 'Unhealthy' | 'Unresponsive'

interface Ping {
  id: number
  timer: NodeJS.Timeout
  /** The event reason if it goes unanswered, and why it was sent. */
  reason: ProbeReason
  cause: string
}

class ManagedInstance {
  state: InstanceState = 'starting'
  secret: string | null = null
  loaded = false
  readyAt: number | null = null
  pong: PongReport | null = null
  startTimer: NodeJS.Timeout | null = null
  /** Killed for what it sent on its control channel: the event said so already. */
  violated = false
  handle!: RunningInstance
  pooled = false
  ping: Ping | null = null
  drainTimer: NodeJS.Timeout | null = null
  killTimer: NodeJS.Timeout | null = null
  startFailed = false
  /** Taken out of rotation and killed by a failed liveness ping. */
  unhealthy = false
  readonly startedAt = Date.now()
  /** When the manager decided to start it, on the monotonic clock. */
  readonly decidedAt = performance.now()

  constructor (readonly id: string, readonly target: VersionTarget) {}

  info (): InstanceInfo {
    return {
      id: this.id,
      namespace: this.target.fn.namespace,
      function: this.target.fn.name,
      version: this.target.fn.version,
      versionKey: this.target.key,
      state: this.state,
      pid: this.handle.pid ?? null,
      socketPath: this.secret === null ? null : this.handle.socketPath,
      startedAt: this.startedAt,
      readyAt: this.readyAt,
      pooled: this.pooled,
      elu: this.pong?.elu ?? null,
      cpuUs: this.pong?.cpuUs ?? null
    }
  }

  clearTimers (): void {
    if (this.startTimer !== null) clearTimeout(this.startTimer)
    this.startTimer = null
    if (this.ping !== null) clearTimeout(this.ping.timer)
    if (this.drainTimer !== null) clearTimeout(this.drainTimer)
    if (this.killTimer !== null) clearTimeout(this.killTimer)
    this.ping = null
    this.drainTimer = null
    this.killTimer = null
  }
}

/**
 * The "kubelet": keeps as many instances of each version running as asked
 * (`replicas`, which the autoscaler sets), takes them from the warm pool when
 * it can, probes them, replaces those that die or hang, drains those no longer
 * wanted. Level triggered: `reconcile` compares wanted with running and can
 * run any time.
 */
export class InstanceManager {
  private readonly instances = new Map<string, ManagedInstance>()
  private targets = new Map<string, VersionTarget>()
  private readonly backoff = new Map<string, StartBackoff>()
  private readonly pool: WarmPool | null
  private retryTimer: NodeJS.Timeout | null = null
  private retryTime = 0
  private livenessTimer: NodeJS.Timeout | null = null
  private started = false
  private stopping: Promise<void> | null = null
  private whenNoInstances: (() => void) | null = null
  private pingSequence = 0
  private readonly pingTimeoutMs: number
  private readonly livenessIntervalMs: number
  private readonly livenessTimeoutMs: number
  private readonly drainDelayMs: number
  private readonly startTimeoutMs: number
  private readonly identityOf: ((namespace: string) => Identity) | null
  private readonly calls: NonNullable<InstanceManagerOptions['calls']> | null
  private readonly inFlightOf: (instanceId: string) => number

  constructor (private readonly driver: Driver, private readonly hooks: InstanceManagerHooks, options: InstanceManagerOptions = {}) {
    this.startTimeoutMs = options.startTimeoutMs ?? 10_000
    this.calls = options.calls ?? null
    this.inFlightOf = options.inFlightOf ?? (() => 0)
    if (driver.isolation().switchesUids) {
      const identities = options.identityOf === undefined ? new NamespaceIdentities() : null
      this.identityOf = options.identityOf ?? ((namespace) => (identities as NamespaceIdentities).identityOf(namespace))
    } else {
      this.identityOf = null
    }
    this.pingTimeoutMs = options.pingTimeoutMs ?? 1000
    this.livenessIntervalMs = options.livenessIntervalMs ?? 1000
    this.livenessTimeoutMs = options.livenessTimeoutMs ?? 10_000
    this.drainDelayMs = options.drainDelayMs ?? 100
    const poolSize = options.warmPool?.size ?? 2
    this.pool = poolSize > 0 ? new WarmPool(driver, { size: poolSize }, { onChange: (size) => this.hooks.onPoolChange?.(size) }) : null
  }

  /**
   * Fills the warm pool and starts probing. Called by the first `setTargets`
   * or `reconcile` if not before; call it early to have the pool warm by then.
   */
  start (): void {
    if (this.started || this.stopping !== null) return
    this.started = true
    if (this.pool !== null) {
      this.pool.setMemoryClasses(this.memoryClasses())
      this.pool.start()
    }
    this.livenessTimer = setInterval(() => this.probeAll(), this.livenessIntervalMs)
    this.livenessTimer.unref()
  }

  /** The versions to run, with their counts; versions not listed drain away. */
  setTargets (targets: VersionTarget[]): void {
    this.targets = new Map(targets.map((target) => [target.key, { ...target, replicas: wholeCount(target.replicas) }]))
    for (const key of this.backoff.keys()) if (!this.targets.has(key)) this.backoff.delete(key)
    this.pool?.setMemoryClasses(this.memoryClasses())
    this.reconcile()
  }

  /** Sets how many instances of one listed version are wanted; unknown keys are ignored. */
  scale (versionKey: string, replicas: number): void {
    const target = this.targets.get(versionKey)
    if (target === undefined) return
    target.replicas = wholeCount(replicas)
    this.reconcile()
  }

  /**
   * A request waits for this version. If its starts are backing off after
   * failures, the request is answered at once (`onStartFailed`) instead of
   * waiting out the backoff. Counts are the autoscaler's: this changes none.
   */
  demand (versionKey: string): void {
    if (!this.targets.has(versionKey)) return
    const backoff = this.backoff.get(versionKey)
    if (backoff !== undefined && backoff.notBefore > Date.now()) this.hooks.onStartFailed(versionKey, backoff.reason)
    this.reconcile()
  }

  /** A request on this instance timed out: if its event loop is stuck, take it out, kill and replace it. */
  suspect (instanceId: string): void {
    const instance = this.instances.get(instanceId)
    if (instance !== undefined) this.probe(instance, 'Unresponsive', 'sent after a request timed out')
  }

  /**
   * The gateway saw an instance break the data protocol: it is ended like one
   * that broke the control protocol, with a ProtocolViolation event.
   */
  violation (instanceId: string, reason: string): void {
    const instance = this.instances.get(instanceId)
    if (instance === undefined || instance.violated) return
    instance.violated = true
    const message = `instance ${instance.id} sent the gateway what the data protocol does not allow and was killed: ${reason}`
    this.systemLog(instance, 'error', message)
    this.event(instance, 'Warning', 'ProtocolViolation', message)
    instance.handle.kill()
  }

  list (): InstanceInfo[] {
    return [...this.instances.values()].map((instance) => instance.info())
  }

  /** Every instance whose data socket listens, with its secret: for the gateway's routing table only. */
  routes (): InstanceRoute[] {
    const routes: InstanceRoute[] = []
    for (const instance of this.instances.values()) {
      if (instance.secret === null) continue
      routes.push({ id: instance.id, versionKey: instance.target.key, state: instance.state, socketPath: instance.handle.socketPath, secret: instance.secret })
    }
    return routes
  }

  /** The isolation instances run under, for `roost up` and `roost describe`. */
  isolation (): { mode: string, details: string[] } {
    const { mode, details } = this.driver.isolation()
    return { mode, details }
  }

  counts (versionKey: string): InstanceCounts {
    const counts: InstanceCounts = { starting: 0, ready: 0, draining: 0 }
    for (const instance of this.instances.values()) {
      if (instance.target.key === versionKey) counts[instance.state]++
    }
    return counts
  }

  /** Idle processes waiting in the warm pool (they are not instances: `list` leaves them out). */
  poolSize (): number {
    return this.pool?.size() ?? 0
  }

  /** The warm pool's processes, for inspection. */
  poolProcesses (): WarmProcessInfo[] {
    return this.pool?.list() ?? []
  }

  reconcile (): void {
    if (this.stopping !== null) return
    this.start()
    for (const instance of this.instances.values()) {
      if (instance.state !== 'draining' && !this.targets.has(instance.target.key)) this.drain(instance)
    }
    for (const target of this.targets.values()) this.reconcileVersion(target)
  }

  private reconcileVersion (target: VersionTarget): void {
    const live: ManagedInstance[] = []
    for (const instance of this.instances.values()) {
      if (instance.target.key === target.key && instance.state !== 'draining') live.push(instance)
    }
    if (live.length > target.replicas) {
      // Those still starting serve nobody yet; of the ready ones, the idle (or
      // least busy) go first, so that nothing waits on a drain; among equals
      // the newest hold the least warm state (caches, JIT) worth keeping.
      const busy = new Map(live.map((instance) => [instance, instance.state === 'ready' ? this.inFlightOf(instance.id) : 0]))
      live.sort((a, b) => startingFirst(a, b) || (busy.get(a) as number) - (busy.get(b) as number) || b.decidedAt - a.decidedAt)
      for (const instance of live.slice(0, live.length - target.replicas)) this.drain(instance)
      return
    }
    if (live.length === target.replicas) return
    const backoff = this.backoff.get(target.key)
    if (backoff !== undefined && backoff.notBefore > Date.now()) {
      this.retryAt(backoff.notBefore)
      return
    }
    for (let i = live.length; i < target.replicas; i++) this.startInstance(target)
  }

  private startInstance (target: VersionTarget): void {
    const id = `${target.fn.name}-v${target.fn.version}-${randomBytes(3).toString('hex')}`
    const instance = new ManagedInstance(id, target)
    this.instances.set(id, instance)
    const events = this.eventsOf(instance)
    // Until `load` the process itself is starting (a spawn on a busy machine can
    // take seconds); from `load` the module has startTimeoutMs to finish loading.
    instance.startTimer = setTimeout(() => this.startTimedOut(instance), Math.max(this.startTimeoutMs, SPAWN_TIMEOUT_MS))
    instance.startTimer.unref()
    const taken = this.pool?.take(target.memoryMiB, events) ?? null
    if (taken !== null) {
      instance.handle = taken.handle
      instance.pooled = true
      instance.secret = taken.secret
      // At once: this message is most of what stands between a request and its function.
      this.load(instance)
    } else {
      instance.handle = this.driver.launch({ name: id, memoryMiB: target.memoryMiB }, events)
    }
    this.hooks.onChange()
  }

  private load (instance: ManagedInstance): void {
    if (instance.loaded) return
    instance.loaded = true
    if (instance.startTimer !== null) clearTimeout(instance.startTimer)
    instance.startTimer = setTimeout(() => this.startTimedOut(instance), this.startTimeoutMs)
    instance.startTimer.unref()
    instance.handle.load(this.loadMessage(instance), instance.target.memoryMiB)
  }

  private startTimedOut (instance: ManagedInstance): void {
    instance.startTimer = null
    if (instance.state !== 'starting' || instance.startFailed) return
    const reason = instance.loaded
      ? `the module did not finish loading within ${this.startTimeoutMs / 1000} s (does it loop or wait forever at the top level?); the instance was killed`
      : `the process did not start within ${Math.max(this.startTimeoutMs, SPAWN_TIMEOUT_MS) / 1000} s; it was killed`
    this.onStartFailure(instance, reason, reason)
    instance.handle.kill()
  }

  private eventsOf (instance: ManagedInstance): InstanceEvents {
    return {
      // Only a spawned process reports this; a pooled one listened before it was taken.
      onListening: (secret) => {
        instance.secret = secret
        if (instance.state === 'starting') this.load(instance)
        this.hooks.onChange()
      },
      onReady: (loadMs) => this.onReady(instance, loadMs),
      onLoadFailed: (reason) => this.onStartFailure(instance, `the module failed to load: ${firstLine(reason)}`, reason),
      onLogs: (lines, dropped) => this.forwardLogs(instance, lines, dropped),
      onPong: (id, report) => {
        instance.pong = report
        this.hooks.onUsage?.(instance.id, instance.target.key, report.elu, report.cpuUs)
        if (instance.ping === null || instance.ping.id !== id) return
        clearTimeout(instance.ping.timer)
        instance.ping = null
      },
      onDrained: () => {},
      onProtocolViolation: (what) => {
        instance.violated = true
        const message = `instance ${instance.id} sent what the protocol does not allow and was killed: ${what}`
        this.systemLog(instance, 'error', message)
        this.event(instance, 'Warning', 'ProtocolViolation', message)
        if (instance.state === 'starting') this.onStartFailure(instance, `the instance broke the control protocol: ${what}`, message, false)
      },
      onExit: (exit) => this.onExit(instance, exit)
    }
  }

  private loadMessage (instance: ManagedInstance): LoadMessage {
    const target = instance.target
    const message: LoadMessage = { t: 'load', instanceId: instance.id, bundlePath: target.bundlePath, fn: target.fn, env: target.env, timeoutMs: target.timeoutMs }
    if (this.calls !== null) {
      message.gatewayUrl = this.calls.gatewayUrl
      message.callToken = this.calls.tokenOf(target.fn.namespace, target.fn.name)
    }
    if (this.identityOf !== null) {
      const { uid, gid } = this.identityOf(target.fn.namespace)
      message.uid = uid
      message.gid = gid
    }
    return message
  }

  private onReady (instance: ManagedInstance, loadMs: number): void {
    if (instance.state !== 'starting') return
    if (instance.startTimer !== null) clearTimeout(instance.startTimer)
    instance.startTimer = null
    instance.state = 'ready'
    instance.readyAt = Date.now()
    const startMs = performance.now() - instance.decidedAt
    this.backoff.delete(instance.target.key)
    const origin = instance.pooled ? 'from the warm pool' : 'spawned'
    this.event(instance, 'Normal', 'Started', `instance ${instance.id} ready in ${Math.round(startMs)} ms (${origin}; module loaded in ${loadMs.toFixed(1)} ms)`)
    this.hooks.onChange()
    this.hooks.onStarted?.(instance.info(), startMs, instance.pooled)
  }

  private onStartFailure (instance: ManagedInstance, reason: string, detail: string, log = true): void {
    if (instance.startFailed) return
    instance.startFailed = true
    const key = instance.target.key
    const failures = (this.backoff.get(key)?.failures ?? 0) + 1
    // Retried while the version is wanted (replicas > 0), further apart each time.
    const delay = backoffDelay(failures)
    this.backoff.set(key, { failures, notBefore: Date.now() + delay, reason })
    if (log) this.systemLog(instance, 'error', detail)
    this.event(instance, 'Warning', 'StartFailed', `instance ${instance.id}: ${reason}${delay > 0 ? `; retrying in ${delay} ms` : ''}`)
    this.hooks.onStartFailed(key, reason)
  }

  private onExit (instance: ManagedInstance, exit: InstanceExit): void {
    this.hooks.onGone?.(instance.id)
    this.instances.delete(instance.id)
    instance.clearTimers()
    if (this.stopping !== null) {
      this.hooks.onChange()
      if (this.instances.size === 0) this.whenNoInstances?.()
      return
    }
    if (instance.unhealthy || instance.violated) {
      this.systemLog(instance, 'warn', `instance ${instance.id} stopped: ${exit.reason}`)
    } else if (instance.state === 'starting') {
      if (!instance.startFailed) this.onStartFailure(instance, `the instance exited while starting: ${exit.reason}`, `instance exited while starting: ${exit.reason}`)
    } else if (instance.state === 'ready') {
      const reason = exit.outOfMemory ? 'OutOfMemory' : 'Crashed'
      this.systemLog(instance, 'error', `instance ${instance.id} exited: ${exit.reason}; replacing it`)
      this.event(instance, 'Warning', reason, `instance ${instance.id} exited (${exit.reason}); replacing it`)
    } else {
      this.event(instance, 'Normal', 'Stopped', `instance ${instance.id} drained and stopped after ${Math.round((Date.now() - instance.startedAt) / 1000)} s`)
    }
    this.hooks.onChange()
    this.reconcile()
  }

  private drain (instance: ManagedInstance): void {
    instance.state = 'draining'
    if (instance.ping !== null) clearTimeout(instance.ping.timer)
    instance.ping = null
    this.hooks.onChange()
    // The gateway must drop the instance from its table before the instance
    // stops listening, or a request could be sent to a closing socket.
    instance.drainTimer = setTimeout(() => instance.handle.drain(), this.drainDelayMs)
    instance.drainTimer.unref()
    instance.killTimer = setTimeout(() => instance.handle.kill(), instance.target.timeoutMs + this.drainDelayMs + 1000)
    instance.killTimer.unref()
  }

  private probeAll (): void {
    for (const instance of this.instances.values()) this.probe(instance, 'Unhealthy', 'periodic liveness probe')
  }

  /**
   * Pings a ready instance unless a ping is outstanding already. One that
   * does not answer in time has a blocked event loop: it is taken out of
   * rotation at once, killed, and replaced. A request that timed out is the
   * more telling cause: it names the outcome even of a ping already on its way.
   */
  private probe (instance: ManagedInstance, reason: ProbeReason, cause: string): void {
    if (instance.state !== 'ready') return
    const patienceMs = reason === 'Unresponsive' ? this.pingTimeoutMs : this.livenessTimeoutMs
    const outstanding = instance.ping
    if (outstanding !== null) {
      if (reason !== 'Unresponsive' || outstanding.reason === 'Unresponsive') return
      // A request timed out while a periodic ping waits: the shorter patience applies from now.
      clearTimeout(outstanding.timer)
      instance.ping = null
    }
    const ping: Ping = {
      id: outstanding?.id ?? ++this.pingSequence,
      reason,
      cause,
      timer: setTimeout(() => {
        instance.ping = null
        this.takeOut(instance, reason, `instance ${instance.id} did not answer a liveness ping within ${patienceMs} ms (${cause}): its event loop is blocked; taken out of rotation, killed and replaced`)
      }, patienceMs)
    }
    ping.timer.unref()
    instance.ping = ping
    if (outstanding === null) instance.handle.ping(ping.id)
  }

  private takeOut (instance: ManagedInstance, reason: string, message: string): void {
    if (instance.state !== 'ready') return
    instance.state = 'draining'
    instance.unhealthy = true
    this.hooks.onChange()
    this.systemLog(instance, 'error', message)
    this.event(instance, 'Warning', reason, message)
    instance.handle.kill()
    // It no longer counts toward replicas: its replacement starts now.
    this.reconcile()
  }

  /** Reconciles again at `time`, or earlier if another version's backoff ends first. */
  private retryAt (time: number): void {
    if (this.retryTimer !== null && this.retryTime <= time) return
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    this.retryTime = time
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.reconcile()
    }, Math.max(0, time - Date.now()))
    this.retryTimer.unref()
  }

  private memoryClasses (): number[] {
    const mibs = new Set<number>()
    for (const target of this.targets.values()) mibs.add(target.memoryMiB)
    return mibs.size === 0 ? [DEFAULT_MEMORY_MIB] : [...mibs]
  }

  /** Drains every instance, kills what is left after `graceMs`, and ends the warm pool. */
  stop (graceMs = 2000): Promise<void> {
    this.stopping ??= this.shutdown(graceMs)
    return this.stopping
  }

  private async shutdown (graceMs: number): Promise<void> {
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    if (this.livenessTimer !== null) clearInterval(this.livenessTimer)
    const pool = this.pool?.stop()
    if (this.instances.size > 0) {
      const exited = new Promise<void>((resolve) => { this.whenNoInstances = resolve })
      for (const instance of this.instances.values()) {
        instance.clearTimers()
        instance.state = 'draining'
        instance.handle.drain()
      }
      const timer = setTimeout(() => { for (const instance of this.instances.values()) instance.handle.kill() }, graceMs)
      await exited
      clearTimeout(timer)
    }
    await pool
    await this.driver.close?.()
  }

  private forwardLogs (instance: ManagedInstance, lines: ControlLogLine[], dropped: number): void {
    const fn = instance.target.fn
    const out: InstanceLogLine[] = lines.map((line) => ({ ...line, namespace: fn.namespace, function: fn.name, version: fn.version, instance: instance.id }))
    if (dropped > 0) out.push(this.logLine(instance, 'warn', 'system', `${dropped} log lines dropped: the function logs faster than they can be kept`))
    this.hooks.onLogs(out)
  }

  private systemLog (instance: ManagedInstance, level: LogLevel, message: string): void {
    this.hooks.onLogs([this.logLine(instance, level, 'system', message)])
  }

  private logLine (instance: ManagedInstance, level: LogLevel, stream: LogStream, message: string): InstanceLogLine {
    const fn = instance.target.fn
    return { time: Date.now(), level, stream, requestId: null, message, namespace: fn.namespace, function: fn.name, version: fn.version, instance: instance.id }
  }

  private event (instance: ManagedInstance, type: 'Normal' | 'Warning', reason: string, message: string): void {
    this.hooks.onEvent({ namespace: instance.target.fn.namespace, function: instance.target.fn.name, type, reason, message })
  }
}

function firstLine (text: string): string {
  const end = text.indexOf('\n')
  return end === -1 ? text : text.slice(0, end)
}

function wholeCount (value: number): number {
  return Number.isFinite(value) && value > 0 ? Math.floor(value) : 0
}

function startingFirst (a: ManagedInstance, b: ManagedInstance): number {
  return (a.state === 'starting' ? 0 : 1) - (b.state === 'starting' ? 0 : 1)
}
