import { randomBytes } from 'node:crypto'
import type { FunctionIdentity, LogLevel, LogStream, RuntimeLogLine } from '../runtime/index.js'
import type { Driver, InstanceExit, RunningInstance } from './driver.js'

/** What the controllers want running for one function version. */
export interface VersionTarget {
  key: string
  fn: FunctionIdentity
  bundlePath: string
  env: Record<string, string>
  timeoutMs: number
  memoryMiB: number
  /** Instances kept running whatever the traffic (`spec.scale.min`). */
  min: number
  /** False once the version gets no traffic: its instances drain away. */
  active: boolean
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
  host: string
  port: number
  startedAt: number
  readyAt: number | null
}

export interface InstanceLogLine extends RuntimeLogLine {
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
  /** A start of this version failed; requests waiting for it should be answered. */
  onStartFailed (versionKey: string, reason: string): void
}

export interface InstanceManagerOptions {
  /** How long a stuck-suspect has to answer a ping before it is killed. */
  pingTimeoutMs?: number
  /** Time the gateway gets to stop routing to an instance before it is told to drain. */
  drainDelayMs?: number
}

interface StartBackoff {
  failures: number
  notBefore: number
  reason: string
}

class ManagedInstance {
  state: InstanceState = 'starting'
  port = 0
  readyAt: number | null = null
  handle!: RunningInstance
  pingTimer: NodeJS.Timeout | null = null
  killTimer: NodeJS.Timeout | null = null
  startFailed = false
  readonly startedAt = Date.now()

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
      host: '127.0.0.1',
      port: this.port,
      startedAt: this.startedAt,
      readyAt: this.readyAt
    }
  }
}

const FIRST_BACKOFF_MS = 250
const MAX_BACKOFF_MS = 30_000

/**
 * The "kubelet": keeps the instances the controllers ask for running through a
 * Driver, replaces those that die, drains those no longer wanted. Level
 * triggered: `reconcile` compares wanted with running and can run any time.
 */
export class InstanceManager {
  private readonly instances = new Map<string, ManagedInstance>()
  private targets = new Map<string, VersionTarget>()
  /** Versions a request is waiting for; the autoscaler will own this count. */
  private readonly demanded = new Map<string, number>()
  private readonly backoff = new Map<string, StartBackoff>()
  private retryTimer: NodeJS.Timeout | null = null
  private stopping = false
  private pingSequence = 0
  private readonly pingTimeoutMs: number
  private readonly drainDelayMs: number

  constructor (private readonly driver: Driver, private readonly hooks: InstanceManagerHooks, options: InstanceManagerOptions = {}) {
    this.pingTimeoutMs = options.pingTimeoutMs ?? 1000
    this.drainDelayMs = options.drainDelayMs ?? 100
  }

  setTargets (targets: VersionTarget[]): void {
    this.targets = new Map(targets.map((target) => [target.key, target]))
    for (const key of this.demanded.keys()) if (!this.targets.has(key)) this.demanded.delete(key)
    for (const key of this.backoff.keys()) if (!this.targets.has(key)) this.backoff.delete(key)
    this.reconcile()
  }

  /** A request waits for this version and nothing can serve it: start what is needed now. */
  demand (versionKey: string, count = 1): void {
    const target = this.targets.get(versionKey)
    if (target === undefined || !target.active) return
    if ((this.demanded.get(versionKey) ?? 0) < count) this.demanded.set(versionKey, count)
    const backoff = this.backoff.get(versionKey)
    if (backoff !== undefined && backoff.notBefore > Date.now()) {
      this.hooks.onStartFailed(versionKey, backoff.reason)
    }
    this.reconcile()
  }

  /** A request on this instance timed out: if its event loop is stuck, kill and replace it. */
  suspect (instanceId: string): void {
    const instance = this.instances.get(instanceId)
    if (instance === undefined || instance.state !== 'ready' || instance.pingTimer !== null) return
    const id = ++this.pingSequence
    instance.pingTimer = setTimeout(() => {
      instance.pingTimer = null
      this.event(instance, 'Warning', 'Unresponsive', `instance ${instance.id} did not answer a liveness ping within ${this.pingTimeoutMs} ms after a request timed out; killed`)
      instance.handle.kill()
    }, this.pingTimeoutMs)
    instance.handle.ping(id)
  }

  list (): InstanceInfo[] {
    return [...this.instances.values()].map((instance) => instance.info())
  }

  reconcile (): void {
    if (this.stopping) return
    for (const instance of this.instances.values()) {
      const target = this.targets.get(instance.target.key)
      if (instance.state !== 'draining' && (target === undefined || !target.active)) this.drain(instance)
    }
    for (const target of this.targets.values()) {
      if (target.active) this.reconcileVersion(target)
    }
  }

  private reconcileVersion (target: VersionTarget): void {
    const wanted = Math.max(target.min, this.demanded.get(target.key) ?? 0)
    const live = [...this.instances.values()].filter((i) => i.target.key === target.key && i.state !== 'draining')
    if (live.length > wanted) {
      // Newest first: they are the least likely to hold warm state worth keeping.
      for (const instance of live.slice(wanted).reverse()) this.drain(instance)
      return
    }
    const backoff = this.backoff.get(target.key)
    if (backoff !== undefined && backoff.notBefore > Date.now()) {
      this.retryAt(backoff.notBefore)
      return
    }
    for (let i = live.length; i < wanted; i++) this.start(target)
  }

  private start (target: VersionTarget): void {
    const id = `${target.fn.name}-v${target.fn.version}-${randomBytes(3).toString('hex')}`
    const instance = new ManagedInstance(id, target)
    this.instances.set(id, instance)
    instance.handle = this.driver.launch({ instanceId: id, memoryMiB: target.memoryMiB }, {
      onListening: ({ port }) => {
        instance.port = port
        instance.handle.load({ t: 'load', instanceId: id, bundlePath: target.bundlePath, fn: target.fn, env: target.env, timeoutMs: target.timeoutMs })
      },
      onReady: (loadMs) => this.onReady(instance, loadMs),
      onLoadFailed: (reason) => this.onStartFailure(instance, `the module failed to load: ${firstLine(reason)}`, reason),
      onLogs: (lines, dropped) => this.forwardLogs(instance, lines, dropped),
      onPong: () => {
        if (instance.pingTimer !== null) clearTimeout(instance.pingTimer)
        instance.pingTimer = null
      },
      onDrained: () => {},
      onExit: (exit) => this.onExit(instance, exit)
    })
    this.hooks.onChange()
  }

  private onReady (instance: ManagedInstance, loadMs: number): void {
    if (instance.state !== 'starting') return
    instance.state = 'ready'
    instance.readyAt = Date.now()
    this.backoff.delete(instance.target.key)
    this.event(instance, 'Normal', 'Started', `instance ${instance.id} ready in ${instance.readyAt - instance.startedAt} ms (module loaded in ${loadMs.toFixed(1)} ms)`)
    this.hooks.onChange()
  }

  private onStartFailure (instance: ManagedInstance, reason: string, detail: string): void {
    instance.startFailed = true
    const key = instance.target.key
    // The requests that wanted this version are answered with the failure; the
    // next request asks again. Only scale.min keeps retrying a broken version.
    this.demanded.delete(key)
    const previous = this.backoff.get(key)
    const failures = (previous?.failures ?? 0) + 1
    // The first failure is retried at once (it may be a fluke); repeats back off
    // so a broken version does not spin the machine.
    const delay = failures === 1 ? 0 : Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (failures - 2))
    this.backoff.set(key, { failures, notBefore: Date.now() + delay, reason })
    this.systemLog(instance, 'error', detail)
    this.event(instance, 'Warning', 'StartFailed', `instance ${instance.id}: ${reason}${delay > 0 ? `; retrying in ${delay} ms` : ''}`)
    this.hooks.onStartFailed(key, reason)
  }

  private onExit (instance: ManagedInstance, exit: InstanceExit): void {
    this.instances.delete(instance.id)
    if (instance.pingTimer !== null) clearTimeout(instance.pingTimer)
    if (instance.killTimer !== null) clearTimeout(instance.killTimer)
    if (instance.state === 'starting' && !this.stopping) {
      if (!instance.startFailed) this.onStartFailure(instance, `the instance exited while starting: ${exit.reason}`, `instance exited while starting: ${exit.reason}`)
    } else if (instance.state === 'ready' && !this.stopping) {
      const reason = exit.outOfMemory ? 'OutOfMemory' : 'Crashed'
      this.systemLog(instance, 'error', `instance ${instance.id} exited: ${exit.reason}; replacing it`)
      this.event(instance, 'Warning', reason, `instance ${instance.id} exited (${exit.reason}); replacing it`)
    } else if (instance.state === 'draining' && !this.stopping) {
      this.event(instance, 'Normal', 'Stopped', `instance ${instance.id} drained and stopped after ${Math.round((Date.now() - instance.startedAt) / 1000)} s`)
    }
    this.hooks.onChange()
    this.reconcile()
  }

  private drain (instance: ManagedInstance): void {
    instance.state = 'draining'
    this.hooks.onChange()
    // The gateway must drop the instance from its table before the instance
    // stops listening, or a request could be sent to a closing socket.
    setTimeout(() => instance.handle.drain(), this.drainDelayMs).unref()
    instance.killTimer = setTimeout(() => instance.handle.kill(), instance.target.timeoutMs + this.drainDelayMs + 1000)
    instance.killTimer.unref()
  }

  private retryAt (time: number): void {
    if (this.retryTimer !== null) return
    this.retryTimer = setTimeout(() => {
      this.retryTimer = null
      this.reconcile()
    }, Math.max(0, time - Date.now()))
    this.retryTimer.unref()
  }

  /** Drains every instance, then kills what is left after `graceMs`. */
  async stop (graceMs = 2000): Promise<void> {
    this.stopping = true
    if (this.retryTimer !== null) clearTimeout(this.retryTimer)
    const running = [...this.instances.values()]
    if (running.length === 0) return
    const exited = new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (this.instances.size === 0) {
          clearInterval(check)
          resolve()
        }
      }, 10)
    })
    for (const instance of running) {
      instance.state = 'draining'
      instance.handle.drain()
    }
    const timer = setTimeout(() => { for (const instance of this.instances.values()) instance.handle.kill() }, graceMs)
    await exited
    clearTimeout(timer)
  }

  private forwardLogs (instance: ManagedInstance, lines: RuntimeLogLine[], dropped: number): void {
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
