// The CPU cap (issue 9): instances on one machine share its cores, so a
// CPU-bound version on a saturated machine does not grow past what the cores
// run, and a scale-up that added no throughput there is undone. The same
// judgement applies when the cores are contended and the gateway, which
// every request crosses, is busy: then the bound is the proxy and the cores,
// not the version's own loops (a light handler behind the gateway), and more
// instances only add contention. Pure, like decide(): every input and the
// clock come in as arguments.

/** What one step knows of the machine and of the version's instances. */
export interface CpuInputs {
  /** Cores of the machine. */
  cores: number
  /** Busy fraction of all the cores together over the last seconds, 0…1. */
  machineBusy: number
  /** Mean event-loop utilisation of the version's instances that reported lately, 0…1. */
  elu: number
  /** CPU time the version's instances used together per second of wall time, in cores; null until one reported twice. */
  cpuCores: number | null
  /** The gateway thread's event-loop utilisation, 0…1, when it runs on this machine and reported lately. */
  proxyElu?: number
}

/** A scale-up that served no more than the count before it. */
export interface NoGain {
  /** The count before the scale-up, and the count it reached. */
  from: number
  tried: number
  /** Panic-window averages before the scale-up and when it was judged. */
  rps: readonly [number, number]
  concurrency: readonly [number, number]
}

/** The cap in force: the version is CPU-bound on a saturated machine. */
export interface CpuCap {
  /** The most instances the version may have now (never below its floor). */
  limit: number
  /** What the cap was decided on. */
  usage: CpuInputs
  /** Set once a scale-up past `limit` was undone for adding no throughput; held while the cap is. */
  noGain: NoGain | null
}

/** What the cap carries from one step to the next. */
export interface CpuMemory {
  /** The version is CPU-bound on a saturated machine (with hysteresis). */
  capped: boolean
  /** The cores are contended and the gateway is busy (with hysteresis): scale-ups are judged by what they add. */
  contended: boolean
  /** A count that growing past added no throughput; cleared once neither `capped` nor `contended` holds. */
  ceiling: { count: number, noGain: NoGain } | null
  /** A scale-up waiting to be judged by the throughput it added. */
  trial: { at: number, from: number, rps: number, concurrency: number } | null
}

export const CPU_CAP = {
  /** The cap starts at this machine busy fraction, with less than a core free, and this event-loop utilisation… */
  saturatedBusy: 0.9,
  freeCores: 1,
  boundElu: 0.7,
  /** …and ends below these (or with this many cores free), so that a machine hovering at the threshold does not flap. */
  releaseBusy: 0.75,
  releaseFreeCores: 1.5,
  releaseElu: 0.5,
  /** A process's CPU time includes GC and libuv threads: 1.15 cores still keep one instance busy. */
  coreSlack: 0.2,
  /** Less than this rise of rps (and fall of concurrency) counts as no gain. */
  minGain: 0.1,
  /** A scale-up is judged no sooner than this after it, and after two panic windows. */
  judgeMinMs: 5000,
  /** Contended: the machine this busy with less than `freeCores` free, and the gateway's loop this busy… */
  contendedBusy: 0.7,
  busyProxyElu: 0.7,
  /** …until the machine is below this, or the gateway below this. */
  releaseContendedBusy: 0.55,
  releaseProxyElu: 0.5
} as const

// Averages carry float noise: a rise of exactly the minimum gain counts as one.
const EPSILON = 1e-9

/** Where the cap stands in one step. */
export interface CapStep {
  cap: CpuCap | null
  /** The count to go back to at once: the scale-up this step judged added nothing. */
  undo: number | null
}

export interface CapContext {
  now: number
  current: number
  floor: number
  /** Panic-window averages: the throughput a scale-up is judged by. */
  panic: { rps: number, concurrency: number }
  /** The stable window; the judge waits two of its panic windows (a tenth each). */
  windowMs: number
}

export function newCpuMemory (): CpuMemory {
  return { capped: false, contended: false, ceiling: null, trial: null }
}

/** Without CPU inputs nothing is capped: what was learned no longer applies. */
export function forgetCpu (memory: CpuMemory): void {
  memory.capped = false
  memory.contended = false
  memory.ceiling = null
  memory.trial = null
}

export function capStep (memory: CpuMemory, usage: CpuInputs, context: CapContext): CapStep {
  updateCapped(memory, usage)
  updateContended(memory, usage)
  if (!memory.capped && !memory.contended) memory.ceiling = null
  const undo = judgeTrial(memory, context)
  const ceiling = memory.ceiling
  if (memory.capped) {
    const cores = coresLimit(usage, undo ?? context.current)
    const limit = Math.max(context.floor, Math.min(cores, ceiling?.count ?? Infinity))
    return { cap: { limit, usage, noGain: ceiling?.noGain ?? null }, undo }
  }
  // Contended only: nothing is limited until a scale-up showed it added nothing.
  if (ceiling === null) return { cap: null, undo }
  return { cap: { limit: Math.max(context.floor, ceiling.count), usage, noGain: ceiling.noGain }, undo }
}

/** A scale-up starts (or, while one is being judged, extends) a trial of its throughput. */
export function startTrial (memory: CpuMemory, context: CapContext): void {
  if (memory.trial !== null) {
    memory.trial.at = context.now
    return
  }
  memory.trial = { at: context.now, from: context.current, rps: context.panic.rps, concurrency: context.panic.concurrency }
}

// Saturated: no core is free for one more instance, which on a large machine
// takes more than the busy fraction alone (16 cores at 90 % leave 1.6 free).
function updateCapped (memory: CpuMemory, usage: CpuInputs): void {
  const free = usage.cores * (1 - usage.machineBusy)
  if (memory.capped) {
    memory.capped = usage.machineBusy >= CPU_CAP.releaseBusy && free < CPU_CAP.releaseFreeCores && usage.elu >= CPU_CAP.releaseElu
    return
  }
  memory.capped = usage.machineBusy >= CPU_CAP.saturatedBusy && free < CPU_CAP.freeCores && usage.elu >= CPU_CAP.boundElu
}

// Threads that hand requests to one another (caller, gateway, instance) leave
// the cores short of 100 % even when they are what bounds the throughput.
function updateContended (memory: CpuMemory, usage: CpuInputs): void {
  const proxy = usage.proxyElu
  if (proxy === undefined) {
    memory.contended = false
    return
  }
  const free = usage.cores * (1 - usage.machineBusy)
  if (memory.contended) {
    memory.contended = usage.machineBusy >= CPU_CAP.releaseContendedBusy && free < CPU_CAP.releaseFreeCores && proxy >= CPU_CAP.releaseProxyElu
    return
  }
  memory.contended = usage.machineBusy >= CPU_CAP.contendedBusy && free < CPU_CAP.freeCores && proxy >= CPU_CAP.busyProxyElu
}

/**
 * Instances the CPU the version gets keeps busy: each runs JavaScript on one
 * thread, so the cores it uses, rounded up past a slack, and never more than
 * it has (a saturated machine has no core for one more).
 */
function coresLimit (usage: CpuInputs, current: number): number {
  if (usage.cpuCores === null) return Math.max(1, current)
  return Math.max(1, Math.min(current, usage.cores, Math.ceil(usage.cpuCores - CPU_CAP.coreSlack)))
}

/**
 * The count to go back to when a due trial shows no gain while capped, else
 * null; a due trial ends either way, so a later scale-up is judged on its own.
 */
function judgeTrial (memory: CpuMemory, context: CapContext): number | null {
  const trial = memory.trial
  if (trial === null || context.now - trial.at < judgeAfterMs(context.windowMs)) return null
  memory.trial = null
  if (!memory.capped && !memory.contended) return null
  // Never back to zero: a version under load keeps an instance.
  const back = Math.max(1, context.floor, trial.from)
  if (context.current <= back) return null
  const moreServed = context.panic.rps - trial.rps >= CPU_CAP.minGain * trial.rps - EPSILON
  const lessWaiting = trial.concurrency - context.panic.concurrency >= CPU_CAP.minGain * trial.concurrency - EPSILON
  if (moreServed || lessWaiting) return null
  memory.ceiling = {
    count: back,
    noGain: { from: back, tried: context.current, rps: [trial.rps, context.panic.rps], concurrency: [trial.concurrency, context.panic.concurrency] }
  }
  return back
}

export function judgeAfterMs (windowMs: number): number {
  return Math.max(CPU_CAP.judgeMinMs, 2 * Math.max(1000, Math.round(windowMs / 10)))
}

/** `capped at 2: the machine's CPU is saturated (cpu 97% of 2 cores; instances' event loops 92% busy; they use 1.8 cores)` */
export function describeCap (cap: CpuCap): string {
  const { usage, noGain } = cap
  const used = usage.cpuCores === null ? '' : `; they use ${cores(round(usage.cpuCores))}`
  const proxy = usage.proxyElu === undefined ? '' : `; the gateway's ${percent(usage.proxyElu)}`
  const text = `capped at ${cap.limit}: the machine's CPU is saturated (cpu ${percent(usage.machineBusy)} of ${cores(usage.cores.toString())}; instances' event loops ${percent(usage.elu)} busy${used}${proxy})`
  if (noGain === null) return text
  return `${text}; ${noGain.tried} instances served no more than ${noGain.from} (rps ${round(noGain.rps[0])} → ${round(noGain.rps[1])}, concurrency ${round(noGain.concurrency[0])} → ${round(noGain.concurrency[1])})`
}

function cores (count: string): string {
  return count === '1' ? '1 core' : `${count} cores`
}

function percent (fraction: number): string {
  return `${Math.round(fraction * 100)}%`
}

function round (value: number): string {
  return (Math.round(value * 10) / 10).toString()
}
