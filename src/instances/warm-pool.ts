import { randomBytes } from 'node:crypto'
import { backoffDelay, MAX_BACKOFF_MS } from './backoff.js'
import type { Driver, InstanceEvents, InstanceExit, PongReport, RunningInstance } from './driver.js'

// Cold starts come from here: generic runtime processes started ahead of need,
// listening and warmed, that load a bundle when taken and become an instance
// of that function. Nothing function-specific is fixed at spawn except the V8
// heap limit, so the pool keeps processes per memory size ("class").

/** Heap limit of the pool's processes when no function says otherwise (`spec.memory` default). */
export const DEFAULT_MEMORY_MIB = 128

// A process that is not warm by then is stuck: it is killed and counts as a failure.
const WARM_START_TIMEOUT_MS = 15_000
// While other idle processes remain, a refill waits for the process just
// taken to load, then this long (its first requests go first)...
const REFILL_GRACE_MS = 100
// ...and never longer than this after the take.
const REFILL_DELAY_MAX_MS = 2000

export interface WarmPoolOptions {
  /** Idle processes kept per memory class; 0 keeps none. */
  size: number
}

export interface WarmPoolHooks {
  /** The number of idle (takeable) processes changed. */
  onChange? (size: number): void
}

/** A process handed over by `take`: already listening, it waits for `load`. */
export interface TakenProcess {
  handle: RunningInstance
  /** What opens its data socket (from its `listening`). */
  secret: string
}

export type WarmProcessState = 'starting' | 'warming' | 'idle'

export interface WarmProcessInfo {
  pid: number | null
  memoryMiB: number
  state: WarmProcessState
  socketPath: string
}

/**
 * The events of one process go to whoever owns it now: the pool while it
 * waits, then the instance it became. The driver holds this object; `take`
 * hands it over, with a callback for when the new owner's load has settled.
 */
class SwitchableEvents implements InstanceEvents {
  private settled: (() => void) | null = null

  constructor (private target: InstanceEvents) {}

  handOver (target: InstanceEvents, settled: (() => void) | null): void {
    this.target = target
    this.settled = settled
  }

  onListening (secret: string): void { this.target.onListening(secret) }
  onReady (loadMs: number): void { this.target.onReady(loadMs); this.settle() }
  onLoadFailed (reason: string): void { this.target.onLoadFailed(reason); this.settle() }
  onLogs (lines: Parameters<InstanceEvents['onLogs']>[0], dropped: number): void { this.target.onLogs(lines, dropped) }
  onPong (id: number, report: PongReport): void { this.target.onPong(id, report) }
  onDrained (): void { this.target.onDrained() }
  onProtocolViolation (what: string): void { this.target.onProtocolViolation(what) }
  onExit (exit: InstanceExit): void { this.target.onExit(exit); this.settle() }

  private settle (): void {
    const settled = this.settled
    this.settled = null
    settled?.()
  }
}

class WarmProcess {
  state: WarmProcessState = 'starting'
  secret = ''
  handle!: RunningInstance
  events!: SwitchableEvents
  startTimer: NodeJS.Timeout | null = null

  constructor (readonly memoryClass: MemoryClass) {}

  info (): WarmProcessInfo {
    return { pid: this.handle.pid ?? null, memoryMiB: this.memoryClass.memoryMiB, state: this.state, socketPath: this.handle.socketPath }
  }
}

class MemoryClass {
  /** Processes of this class not taken yet, oldest first. */
  readonly processes = new Set<WarmProcess>()
  retired = false
  failures = 0
  lastFailureAt = 0
  refillTimer: NodeJS.Timeout | null = null

  constructor (readonly memoryMiB: number) {}
}

export class WarmPool {
  private readonly classes = new Map<number, MemoryClass>()
  /** Every process the pool still owns (not taken, not exited), of any class, retired or not. */
  private readonly owned = new Set<WarmProcess>()
  private started = false
  private stopping = false
  private stopped: Promise<void> | null = null
  private whenEmpty: (() => void) | null = null
  private reportedSize = 0
  private pingSequence = 0

  constructor (private readonly driver: Driver, private readonly options: WarmPoolOptions, private readonly hooks: WarmPoolHooks = {}) {}

  /** Starts filling every memory class (the default class if none was set). */
  start (): void {
    if (this.started || this.stopping) return
    this.started = true
    if (this.classes.size === 0) this.setMemoryClasses([DEFAULT_MEMORY_MIB])
    for (const memoryClass of this.classes.values()) this.fill(memoryClass)
  }

  /** The heap sizes to keep processes for; processes of other sizes are ended. */
  setMemoryClasses (mibs: number[]): void {
    if (this.stopping) return
    const wanted = new Set(mibs.length === 0 ? [DEFAULT_MEMORY_MIB] : mibs)
    for (const [mib, memoryClass] of this.classes) {
      if (wanted.has(mib)) continue
      this.classes.delete(mib)
      memoryClass.retired = true
      if (memoryClass.refillTimer !== null) clearTimeout(memoryClass.refillTimer)
      for (const warm of memoryClass.processes) warm.handle.kill()
      memoryClass.processes.clear()
    }
    for (const mib of wanted) {
      if (this.classes.has(mib)) continue
      const memoryClass = new MemoryClass(mib)
      this.classes.set(mib, memoryClass)
      if (this.started) this.fill(memoryClass)
    }
    this.report()
  }

  /**
   * Hands over an idle process of this heap size, its events going to
   * `events` from now on, or null when none is idle (the caller spawns). The
   * pool refills in the background: at once if no idle process is left,
   * otherwise once the taken process has loaded.
   */
  take (memoryMiB: number, events: InstanceEvents): TakenProcess | null {
    const memoryClass = this.classes.get(memoryMiB)
    if (memoryClass === undefined) return null
    let taken: WarmProcess | null = null
    for (const warm of memoryClass.processes) {
      if (warm.state === 'idle') {
        taken = warm
        break
      }
    }
    if (taken === null) return null
    memoryClass.processes.delete(taken)
    this.owned.delete(taken)
    // A process that served its turn: the class works, whatever died before.
    memoryClass.failures = 0
    this.report()
    if (this.idle(memoryClass) === 0) {
      // The next cold start would find nothing: refill now, once `load` is sent.
      taken.events.handOver(events, null)
      setImmediate(() => this.fill(memoryClass))
    } else {
      // A spawn blocks this event loop for a few ms and the new process's
      // start takes a core for tens of ms: both would come out of the cold
      // start being served. So the refill waits until the taken process has
      // loaded its bundle and had a moment for its first requests.
      const fill = (): void => this.fill(memoryClass)
      const fallback = setTimeout(fill, REFILL_DELAY_MAX_MS)
      fallback.unref()
      taken.events.handOver(events, () => {
        clearTimeout(fallback)
        setTimeout(fill, REFILL_GRACE_MS).unref()
      })
    }
    return { handle: taken.handle, secret: taken.secret }
  }

  /** Idle processes ready to be taken, over all memory classes. */
  size (): number {
    let idle = 0
    for (const memoryClass of this.classes.values()) idle += this.idle(memoryClass)
    return idle
  }

  list (): WarmProcessInfo[] {
    return [...this.owned].map((warm) => warm.info())
  }

  /** Kills every process the pool holds and resolves once they have all exited. */
  stop (): Promise<void> {
    this.stopped ??= this.shutdown()
    return this.stopped
  }

  private async shutdown (): Promise<void> {
    this.stopping = true
    for (const memoryClass of this.classes.values()) {
      if (memoryClass.refillTimer !== null) clearTimeout(memoryClass.refillTimer)
      memoryClass.refillTimer = null
    }
    for (const warm of this.owned) warm.handle.kill()
    if (this.owned.size > 0) await new Promise<void>((resolve) => { this.whenEmpty = resolve })
    this.report()
  }

  private idle (memoryClass: MemoryClass): number {
    let idle = 0
    for (const warm of memoryClass.processes) if (warm.state === 'idle') idle++
    return idle
  }

  private fill (memoryClass: MemoryClass): void {
    if (!this.started || this.stopping || memoryClass.retired || memoryClass.refillTimer !== null) return
    while (memoryClass.processes.size < this.options.size) this.launch(memoryClass)
  }

  private launch (memoryClass: MemoryClass): void {
    const warm = new WarmProcess(memoryClass)
    warm.events = new SwitchableEvents(this.poolEvents(warm))
    memoryClass.processes.add(warm)
    this.owned.add(warm)
    warm.handle = this.driver.launch({ name: `warm-${memoryClass.memoryMiB}-${randomBytes(3).toString('hex')}`, memoryMiB: memoryClass.memoryMiB, warmUp: true }, warm.events)
    warm.startTimer = setTimeout(() => warm.handle.kill(), WARM_START_TIMEOUT_MS)
    warm.startTimer.unref()
  }

  /** What the pool does with the events of a process it still holds. */
  private poolEvents (warm: WarmProcess): InstanceEvents {
    let pingId = 0
    return {
      onListening: (secret) => {
        warm.secret = secret
        warm.state = 'warming'
        // The first message a child receives costs about a millisecond more
        // than later ones: pay it now rather than with `load`. The pong also
        // proves the process answers.
        pingId = ++this.pingSequence
        warm.handle.ping(pingId)
      },
      onPong: (id) => {
        if (id !== pingId || warm.state !== 'warming') return
        warm.state = 'idle'
        if (warm.startTimer !== null) clearTimeout(warm.startTimer)
        warm.startTimer = null
        this.report()
      },
      onExit: (exit) => this.onExit(warm, exit),
      // An idle process has no function: nothing it could say belongs to anyone.
      onReady: () => {},
      onLoadFailed: () => {},
      onLogs: () => {},
      onDrained: () => {},
      // The driver kills it; its exit refills the pool.
      onProtocolViolation: () => {}
    }
  }

  private onExit (warm: WarmProcess, _exit: InstanceExit): void {
    if (warm.startTimer !== null) clearTimeout(warm.startTimer)
    const memoryClass = warm.memoryClass
    memoryClass.processes.delete(warm)
    this.owned.delete(warm)
    this.report()
    if (this.owned.size === 0 && this.whenEmpty !== null) this.whenEmpty()
    if (this.stopping || memoryClass.retired) return
    // Replace it; if they keep dying, back off so the pool does not spin.
    const now = Date.now()
    memoryClass.failures = now - memoryClass.lastFailureAt > MAX_BACKOFF_MS ? 1 : memoryClass.failures + 1
    memoryClass.lastFailureAt = now
    const delay = backoffDelay(memoryClass.failures)
    if (delay === 0) {
      this.fill(memoryClass)
      return
    }
    if (memoryClass.refillTimer !== null) return
    memoryClass.refillTimer = setTimeout(() => {
      memoryClass.refillTimer = null
      this.fill(memoryClass)
    }, delay)
    memoryClass.refillTimer.unref()
  }

  private report (): void {
    const size = this.size()
    if (size === this.reportedSize) return
    this.reportedSize = size
    this.hooks.onChange?.(size)
  }
}
