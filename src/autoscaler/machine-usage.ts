import { SlidingWindow } from './sliding-window.js'

/** The machine's CPU over the last second (machine-cpu.ts reads it from /proc/stat). */
export interface MachineLoad {
  /** When it was measured, epoch ms. */
  at: number
  cores: number
  /** Busy fraction of all the cores together, 0…1. */
  busy: number
  /** The gateway thread's event-loop utilisation over the same time, 0…1, when the gateway runs on this machine. */
  proxyElu?: number
}

/** A machine reading older than this is not the machine now. */
export const MACHINE_STALE_MS = 5000
/** Seconds the busy fraction is averaged over: one second of /proc/stat is noisy. */
const MACHINE_SAMPLES = 3

export class MachineUsage {
  private readonly busy = new SlidingWindow(MACHINE_SAMPLES)
  private readonly proxy = new SlidingWindow(MACHINE_SAMPLES)
  private proxyAt = -Infinity
  private cores = 0
  private at = -Infinity

  /** Readings that are not finite, or with fewer than one core, are ignored. */
  observe (load: MachineLoad): void {
    if (!Number.isFinite(load.at) || !Number.isFinite(load.busy) || !Number.isFinite(load.cores) || load.cores < 1) return
    this.busy.push(Math.min(1, Math.max(0, load.busy)))
    this.cores = Math.floor(load.cores)
    this.at = Math.max(this.at, load.at)
    if (load.proxyElu !== undefined && Number.isFinite(load.proxyElu)) {
      this.proxy.push(Math.min(1, Math.max(0, load.proxyElu)))
      this.proxyAt = Math.max(this.proxyAt, load.at)
    }
  }

  /** The cores and the recent busy fraction; null without a reading in MACHINE_STALE_MS. */
  current (now: number): { cores: number, busy: number, proxyElu?: number } | null {
    if (now - this.at > MACHINE_STALE_MS) return null
    const busy = this.busy.average(MACHINE_SAMPLES)
    if (now - this.proxyAt > MACHINE_STALE_MS) return { cores: this.cores, busy }
    return { cores: this.cores, busy, proxyElu: this.proxy.average(MACHINE_SAMPLES) }
  }
}
