// CPU use of processes and threads during a measurement, read from /proc
// (Linux). Two snapshots, some seconds apart, give each one's average share
// of a core over that window, which says which process is the bottleneck.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { spawnSync } from 'node:child_process'

export const cpuSamplingAvailable = existsSync('/proc/self/stat') && existsSync('/proc/stat')

const CLOCK_TICKS = clockTicks()

function clockTicks (): number {
  try {
    const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' })
    const ticks = Number(out.stdout.trim())
    if (Number.isInteger(ticks) && ticks > 0) return ticks
  } catch {}
  return 100
}

/** Fields of /proc/<pid>/stat after the command name; index 0 is field 3 (state). */
function statFields (path: string): string[] | null {
  try {
    const text = readFileSync(path, 'utf8')
    return text.slice(text.lastIndexOf(')') + 2).split(' ')
  } catch {
    return null
  }
}

/** User + system CPU ticks of a whole process, or of one of its threads; null once it is gone. */
export function ticksOf (pid: number, tid?: number): number | null {
  const fields = statFields(tid === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${tid}/stat`)
  if (fields === null) return null
  return Number(fields[11]) + Number(fields[12])
}

/** Ticks of every thread of a process. */
export function threadTicks (pid: number): Map<number, number> {
  const ticks = new Map<number, number>()
  let tids: string[]
  try {
    tids = readdirSync(`/proc/${pid}/task`)
  } catch {
    return ticks
  }
  for (const tid of tids) {
    const value = ticksOf(pid, Number(tid))
    if (value !== null) ticks.set(Number(tid), value)
  }
  return ticks
}

/** Pids whose parent is `pid` (e.g. nginx's workers). */
export function childrenOf (pid: number): number[] {
  if (!cpuSamplingAvailable) return []
  const children: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const fields = statFields(`/proc/${entry}/stat`)
    if (fields !== null && Number(fields[1]) === pid) children.push(Number(entry))
  }
  return children
}

/** Busy and total ticks of the whole machine (all cores; softirq work of loopback TCP included). */
function machineTicks (): { busy: number, total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]
  const [user, nice, system, idle, iowait, irq, softirq, steal] = line.trim().split(/\s+/).slice(1).map(Number)
  const busy = user + nice + system + irq + softirq + (steal ?? 0)
  return { busy, total: busy + idle + iowait }
}

/** What to watch: entries that share a key are summed (nginx's master and workers). */
export interface Watched {
  key: string
  pid: number
  /** One thread only; absent: the whole process. */
  tid?: number
}

export interface CpuSnapshot {
  atMs: number
  machine: { busy: number, total: number }
  watched: Map<string, number>
  /** Every thread of this process, to find the gateway's worker thread. */
  ownThreads: Map<number, number>
}

export function snapshot (watched: Watched[]): CpuSnapshot {
  const sums = new Map<string, number>()
  for (const item of watched) {
    const ticks = ticksOf(item.pid, item.tid)
    if (ticks !== null) sums.set(item.key, (sums.get(item.key) ?? 0) + ticks)
  }
  return { atMs: performance.now(), machine: machineTicks(), watched: sums, ownThreads: threadTicks(process.pid) }
}

/** CPU use between two snapshots, each in % of one core (a machine with n cores has n × 100 %). */
export interface CpuUsage {
  /** The busiest thread of this process other than the main thread: the gateway's worker during a gateway run. */
  busiestOwnThread: number
  /** This process's main thread (the control plane; also the load generator when wrk is absent). */
  ownMainThread: number
  /** Every other thread of this process (V8 GC helpers, libuv pool). */
  ownOtherThreads: number
  /** The whole machine, every process and the kernel. */
  machine: number
  watched: Record<string, number>
}

export function usageBetween (a: CpuSnapshot, b: CpuSnapshot): CpuUsage {
  const seconds = (b.atMs - a.atMs) / 1000
  const percent = (ticks: number): number => ticks / CLOCK_TICKS / seconds * 100
  const deltas: Array<[number, number]> = []
  for (const [tid, ticks] of b.ownThreads) deltas.push([tid, ticks - (a.ownThreads.get(tid) ?? ticks)])
  let main = 0
  let busiest = 0
  let total = 0
  for (const [tid, delta] of deltas) {
    total += delta
    if (tid === process.pid) main = delta
    else if (delta > busiest) busiest = delta
  }
  const watched: Record<string, number> = {}
  for (const [key, ticks] of b.watched) {
    const before = a.watched.get(key)
    if (before !== undefined) watched[key] = percent(ticks - before)
  }
  const cores = (b.machine.total - a.machine.total) / CLOCK_TICKS / seconds
  return {
    busiestOwnThread: percent(busiest),
    ownMainThread: percent(main),
    ownOtherThreads: percent(total - main - busiest),
    machine: (b.machine.busy - a.machine.busy) / (b.machine.total - a.machine.total) * cores * 100,
    watched
  }
}

/** How busy the whole machine is over the next `ms`, in % of one core. */
export async function machineBusy (ms: number): Promise<number> {
  const a = machineTicks()
  const started = performance.now()
  await new Promise((resolve) => setTimeout(resolve, ms))
  const b = machineTicks()
  const cores = (b.total - a.total) / CLOCK_TICKS / ((performance.now() - started) / 1000)
  return (b.busy - a.busy) / (b.total - a.total) * cores * 100
}
