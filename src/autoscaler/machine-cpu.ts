// The machine's CPU from Linux's /proc/stat: the parsing is pure, the read is
// one synchronous call (procfs answers from memory, without disk I/O).

import { readFileSync } from 'node:fs'
import type { MachineLoad } from './machine-usage.js'

/** Clock ticks since boot, summed over all cores. */
export interface CpuTimes {
  busy: number
  total: number
}

export interface ProcStat {
  all: CpuTimes
  /** The `cpuN` lines: online cores. */
  cores: number
}

/**
 * The aggregate `cpu` line and the core count, or null if the text is not
 * /proc/stat. Fields: user nice system idle iowait irq softirq steal guest
 * guest_nice; idle and iowait are free time, guest time is already in user
 * and nice, and steal (taken by the hypervisor) is not ours to use.
 */
export function parseProcStat (text: string): ProcStat | null {
  let all: CpuTimes | null = null
  let cores = 0
  for (const line of text.split('\n')) {
    if (!line.startsWith('cpu')) continue
    const fields = line.trim().split(/\s+/)
    if (fields[0] === 'cpu') all = cpuTimes(fields)
    else if (/^cpu\d+$/.test(fields[0])) cores++
  }
  if (all === null || cores === 0) return null
  return { all, cores }
}

function cpuTimes (fields: string[]): CpuTimes | null {
  const ticks = fields.slice(1, 9).map(Number)
  if (ticks.length < 4 || !ticks.every((tick) => Number.isSafeInteger(tick) && tick >= 0)) return null
  const [user, nice, system, idle, iowait = 0, irq = 0, softirq = 0, steal = 0] = ticks
  const busy = user + nice + system + irq + softirq + steal
  return { busy, total: busy + idle + iowait }
}

/** The busy fraction between two readings; null if no tick passed or the counters went back. */
export function busyFraction (earlier: CpuTimes, later: CpuTimes): number | null {
  const total = later.total - earlier.total
  const busy = later.busy - earlier.busy
  if (total <= 0 || busy < 0) return null
  return Math.min(1, busy / total)
}

/** Samples /proc/stat: each call gives the load since the previous one. */
export class MachineCpu {
  private previous: CpuTimes | null = null

  constructor (
    private readonly read: () => string = () => readFileSync('/proc/stat', 'utf8'),
    private readonly now: () => number = Date.now
  ) {}

  /** Null on the first call, and where /proc/stat cannot be read (not Linux): then nothing is capped. */
  sample (): MachineLoad | null {
    let stat: ProcStat | null
    try {
      stat = parseProcStat(this.read())
    } catch {
      return null
    }
    if (stat === null) return null
    const previous = this.previous
    this.previous = stat.all
    if (previous === null) return null
    const busy = busyFraction(previous, stat.all)
    return busy === null ? null : { at: this.now(), cores: stat.cores, busy }
  }
}
