// The CPU cap (issue 9): instances on one machine share its cores, so a
// CPU-bound version on a saturated machine does not grow past what the cores
// run, and a scale-up that added no throughput there is undone. The same
// judgement applies when the cores are contended and the gateway, which
// every request crosses, is busy: then the bound is the proxy and the cores,
// not the version's own loops (a light handler behind the gateway), and more
// instances only add contention: the count goes down to what the CPU the
// instances use keeps busy, one instance at a time, each step judged by the
// throughput it kept (a trial scale-down) and undone if it lost some. Pure,
// like decide(): every input and the clock come in as arguments.

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

/** A larger count that served no more than a smaller one: a scale-up undone, or a trial scale-down kept. */
export interface NoGain {
  /** The smaller count, and the larger one that added nothing. */
  from: number
  tried: number
  /** Panic-window averages with `from` instances and with `tried`. */
  rps: readonly [number, number]
  concurrency: readonly [number, number]
}

/**
 * The cap in force: the version is CPU-bound on a saturated machine
 * (`cores`), or its cores are contended behind a busy gateway (`contended`).
 */
export interface CpuCap {
  /**
   * The most instances the version may have now (never below its floor). A
   * `cores` cap takes a larger count down through the scale-down delay; a
   * `contended` one only stops growth, and trial scale-downs take it down.
   */
  limit: number
  bound: 'cores' | 'contended'
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
  trial: Trial | null
  /** A trial scale-down (one instance fewer) waiting to be judged by the throughput it kept. */
  probe: Trial | null
  /** A count a trial scale-down showed is needed: held until `until`, or while contended. */
  needed: { count: number, until: number } | null
  /** The count the last step saw, and since when it has been so: a probe waits for the averages to settle. */
  count: number
  countSince: number
  /** Since when the version has had work on cores neither saturated nor contended; null while they are, or it has none. */
  freeSince: number | null
}

/** The count a change started from, when, and the panic-window averages then. */
export interface Trial {
  at: number
  from: number
  rps: number
  concurrency: number
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
  /** A trial scale-down that served this much less, with no fewer requests open, lost throughput. */
  maxLoss: 0.1,
  /** How long a count a trial scale-down showed is needed is kept, at least. */
  neededMs: 300_000,
  /** What was learned is forgotten once the version has had work this long on free cores (an idle version learns nothing). */
  forgetAfterMs: 5000,
  /** Contended: the machine this busy with less than `freeCores` free, and the gateway's loop this busy… */
  contendedBusy: 0.7,
  busyProxyElu: 0.7,
  /** …until the machine is below this, or the gateway below this. */
  releaseContendedBusy: 0.55,
  releaseProxyElu: 0.5
} as const

// Averages carry float noise: a rise of exactly the minimum gain counts as one.
const EPSILON = 1e-9

/**
 * A count the cap moves to at once: `undo`, a scale-up added no throughput;
 * `probe`, one instance fewer is tried; `restore`, that one fewer served less.
 */
export interface CapMove {
  to: number
  reason: 'undo' | 'probe' | 'restore'
}

/** Where the cap stands in one step. */
export interface CapStep {
  cap: CpuCap | null
  move: CapMove | null
}

export interface CapContext {
  now: number
  current: number
  floor: number
  /** Panic-window averages: the throughput a change is judged by. */
  panic: { rps: number, concurrency: number }
  /** The stable window; judges wait for its panic windows (a tenth each). */
  windowMs: number
  /** Requests one instance takes at once: fewer instances than the open requests need are never tried. */
  instanceConcurrency: number
  /** Requests open over the last second alone: whether the version has work now, which the panic window tells late. */
  lastConcurrency: number
}

export function newCpuMemory (): CpuMemory {
  return { capped: false, contended: false, ceiling: null, trial: null, probe: null, needed: null, count: 0, countSince: 0, freeSince: null }
}

/** Without CPU inputs nothing is capped: what was learned no longer applies. */
export function forgetCpu (memory: CpuMemory): void {
  memory.capped = false
  memory.contended = false
  memory.trial = null
  forgetLearned(memory)
}

// A scale-up's trial outlives the contention (it is judged, then dropped); what was learned does not.
function forgetLearned (memory: CpuMemory): void {
  memory.ceiling = null
  memory.probe = null
  memory.needed = null
  memory.freeSince = null
}

export function capStep (memory: CpuMemory, usage: CpuInputs, context: CapContext): CapStep {
  updateCapped(memory, usage)
  updateContended(memory, usage)
  updateFree(memory, context)
  if (memory.needed !== null && context.now >= memory.needed.until) memory.needed = null
  if (context.current !== memory.count) {
    memory.count = context.current
    memory.countSince = context.now
  }
  const undo = judgeTrial(memory, context)
  const ceiling = memory.ceiling
  if (memory.capped) {
    // Instances the cores cannot keep busy go through the scale-down delay, as any excess does.
    memory.probe = null
    const cores = coresLimit(usage, undo ?? context.current)
    const limit = Math.max(context.floor, Math.min(cores, ceiling?.count ?? Infinity))
    return { cap: { limit, bound: 'cores', usage, noGain: ceiling?.noGain ?? null }, move: undo === null ? null : { to: undo, reason: 'undo' } }
  }
  if (!memory.contended) {
    // Free cores: a due trial ended above; a ceiling learned under contention holds until the version has shown it works without.
    memory.probe = null
    if (memory.ceiling === null) return { cap: null, move: null }
    return { cap: { limit: Math.max(context.floor, memory.ceiling.count), bound: 'contended', usage, noGain: memory.ceiling.noGain }, move: null }
  }
  const restore = judgeProbe(memory, context)
  const limit = Math.max(context.floor, memory.needed?.count ?? 0, Math.min(contendedLimit(usage, context), memory.ceiling?.count ?? Infinity))
  const cap: CpuCap = { limit, bound: 'contended', usage, noGain: memory.ceiling?.noGain ?? null }
  if (undo !== null) return { cap, move: moved(memory, undo, 'undo', context.now) }
  if (restore !== null) return { cap, move: moved(memory, restore, 'restore', context.now) }
  if (memory.probe === null && limit < context.current && mayProbe(memory, context)) {
    memory.probe = { at: context.now, from: context.current, rps: context.panic.rps, concurrency: context.panic.concurrency }
    return { cap, move: moved(memory, context.current - 1, 'probe', context.now) }
  }
  return { cap, move: null }
}

// The count changes now, not at the next step: the averages settle from here.
function moved (memory: CpuMemory, to: number, reason: CapMove['reason'], now: number): CapMove {
  memory.count = to
  memory.countSince = now
  return { to, reason }
}

/** A scale-up starts (or, while one is being judged, extends) a trial of its throughput. */
export function startTrial (memory: CpuMemory, context: CapContext): void {
  if (memory.trial !== null) {
    memory.trial.at = context.now
    return
  }
  memory.trial = { at: context.now, from: context.current, rps: context.panic.rps, concurrency: context.panic.concurrency }
}

/**
 * The cores are free once the version has had work on them for a while
 * neither saturated nor contended: when its own load stops, the machine frees
 * at once, and a ceiling forgotten then would let the stable window's lagging
 * average grow it back before the load returns.
 */
function updateFree (memory: CpuMemory, context: CapContext): void {
  if (memory.capped || memory.contended) {
    memory.freeSince = null
    return
  }
  if (context.lastConcurrency < 1) return
  memory.freeSince ??= context.now
  if (context.now - memory.freeSince >= CPU_CAP.forgetAfterMs) forgetLearned(memory)
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
 * What contended cores keep busy of a version: the cores its instances use
 * between them, rounded up past the slack, and one more while their loops
 * are busy (a scale-up then judged like any other); never fewer than its open
 * requests need at its concurrency. Until its CPU use is known the count holds.
 */
function contendedLimit (usage: CpuInputs, context: CapContext): number {
  if (usage.cpuCores === null) return Math.max(1, context.current)
  const busy = usage.elu >= CPU_CAP.boundElu ? 1 : 0
  const slots = Math.ceil(context.panic.concurrency / context.instanceConcurrency - EPSILON)
  return Math.max(1, slots, Math.ceil(usage.cpuCores - CPU_CAP.coreSlack) + busy)
}

/**
 * One instance fewer is tried only on a version with work for every instance
 * (an idle one scales down by its delay), above its floor and one instance,
 * with no scale-up being judged, and once the averages reflect the count.
 */
function mayProbe (memory: CpuMemory, context: CapContext): boolean {
  if (memory.trial !== null) return false
  if (context.current <= Math.max(1, context.floor)) return false
  if (context.panic.concurrency < context.current) return false
  return context.now - memory.countSince >= probeJudgeMs(context.windowMs)
}

/**
 * The count to go back to when a due trial scale-down served less with no
 * fewer requests open (what the missing instance carried), else null. When
 * the requests open fell too, the load went away and nothing is learned but
 * that the count was not needed; a kept removal holds as a ceiling.
 */
function judgeProbe (memory: CpuMemory, context: CapContext): number | null {
  const probe = memory.probe
  if (probe === null || context.now - probe.at < probeJudgeMs(context.windowMs)) return null
  memory.probe = null
  if (context.current !== probe.from - 1) return null
  const { rps, concurrency } = context.panic
  const servedLess = rps < (1 - CPU_CAP.maxLoss) * probe.rps - EPSILON
  const asManyOpen = concurrency >= (1 - CPU_CAP.maxLoss) * probe.concurrency - EPSILON
  if (servedLess && asManyOpen) {
    memory.needed = { count: probe.from, until: context.now + CPU_CAP.neededMs }
    return probe.from
  }
  if (!asManyOpen) return null
  memory.ceiling = {
    count: context.current,
    noGain: { from: context.current, tried: probe.from, rps: [rps, probe.rps], concurrency: [concurrency, probe.concurrency] }
  }
  return null
}

/** A removal takes effect at once: one panic window after it, and a second for the last report, the averages show it. */
export function probeJudgeMs (windowMs: number): number {
  return panicWindowMs(windowMs) + 1000
}

function panicWindowMs (windowMs: number): number {
  return Math.max(1000, Math.round(windowMs / 10))
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
  return Math.max(CPU_CAP.judgeMinMs, 2 * panicWindowMs(windowMs))
}

/**
 * `capped at 2: the machine's CPU is saturated (cpu 97% of 2 cores; instances' event loops 92% busy; they use 1.8 cores)`,
 * or `… is contended (…; the gateway's 98%)` behind a busy gateway.
 */
export function describeCap (cap: CpuCap): string {
  const { usage, noGain } = cap
  const used = usage.cpuCores === null ? '' : `; they use ${cores(round(usage.cpuCores))}`
  const proxy = usage.proxyElu === undefined ? '' : `; the gateway's ${percent(usage.proxyElu)}`
  const text = `capped at ${cap.limit}: the machine's CPU is ${cap.bound === 'cores' ? 'saturated' : 'contended'} (cpu ${percent(usage.machineBusy)} of ${cores(usage.cores.toString())}; instances' event loops ${percent(usage.elu)} busy${used}${proxy})`
  if (noGain === null) return text
  const { from, tried } = noGain
  return `${text}; ${tried} instances served no more than ${from} (rps ${round(noGain.rps[1])} with ${tried}, ${round(noGain.rps[0])} with ${from}; concurrency ${round(noGain.concurrency[1])}, ${round(noGain.concurrency[0])})`
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
