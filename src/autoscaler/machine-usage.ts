import { SlidingWindow } from './sliding-window.js'

/** The machine's CPU over the last second (machine-cpu.ts reads it from /proc/stat). */
export interface MachineLoad {
  /** When it was measured, epoch ms. */
  at: number
  cores: number
  /** Busy fraction of all the cores together, 0…1. */
  busy: number
}

/** A machine reading older than this is not the machine now. */
export const MACHINE_STALE_MS = 5000
/** Seconds the busy fraction is averaged over: one second of /proc/stat is noisy. */
const MACHINE_SAMPLES = 3

export class MachineUsage {
  private readonly busy = new SlidingWindow(MACHINE_SAMPLES)
  private cores = 0
  private at = -Infinity

  /** Readings that are not finite, or with fewer than one core, are ignored. */
  observe (load: MachineLoad): void {
    if (!Number.isFinite(load.at) || !Number.isFinite(load.busy) || !Number.isFinite(load.cores) || load.cores < 1) return
    this.busy.push(Math.min(1, Math.max(0, load.busy)))
    this.cores = Math.floor(load.cores)
    this.at = Math.max(this.at, load.at)
  }

  /** The cores and the recent busy fraction; null without a reading in MACHINE_STALE_MS. */
  current (now: number): { cores: number, busy: number } | null {
    if (now - this.at > MACHINE_STALE_MS) return null
    return { cores: this.cores, busy: this.busy.average(MACHINE_SAMPLES) }
  }
}
