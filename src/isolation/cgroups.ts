import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { instanceGroupName, platformCgroups, processGroupName, V1_CONTROLLERS, type CgroupLayout } from './cgroup-paths.js'

// Resource bounds by the kernel: one cgroup per instance process, in a group
// for all of this platform's instances, below the platform's own cgroup in
// each hierarchy. v1 (memory, pids, cpu, freezer hierarchies) and v2 (one
// unified hierarchy) behind one interface.

/** Instances together weigh as much as one task of the platform (v1 shares of 1024; v2 weight of 100): a lower weight starves them on a busy machine. */
const INSTANCES_CPU_SHARES = 1024
const INSTANCES_CPU_WEIGHT = 100
const EMPTY_ATTEMPTS = 200

export interface ProcessLimits {
  memoryBytes: number
  pidsMax: number
}

/** The cgroup (one per hierarchy) of one instance process. */
export interface ProcessCgroup {
  readonly name: string
  /** Moves a process in; throws if the kernel refuses (the process is gone). */
  add (pid: number): void
  setMemory (bytes: number): void
  /** The kernel killed a process in it for its memory limit. */
  oomKilled (): boolean
  /** Kills every process in it, then removes it. Never rejects. */
  destroy (): Promise<void>
  /** One synchronous round of kills, for when there is no time to wait (the platform exits): the next start removes the group. */
  killNow (): void
}

export interface Cgroups {
  readonly version: 1 | 2
  create (processName: string, limits: ProcessLimits): ProcessCgroup
  /** Empties and removes the groups of processes of an earlier run of this platform (same key). */
  cleanStale (): Promise<void>
  /** Removes the group of this platform's instances if it is empty. */
  close (): void
  /** The folders that hold this platform's process groups, one per hierarchy (the reaper empties them). */
  readonly bases: string[]
}

/** The cgroups of this machine, or null when none can be used (not mounted, not writable, controllers missing). */
export function openCgroups (platformKey: string, run = process.pid): Cgroups | null {
  let layout: CgroupLayout | null
  try {
    layout = platformCgroups(readFileSync('/proc/self/cgroup', 'utf8'), readFileSync('/proc/self/mountinfo', 'utf8'), (dir) => readOrNull(join(dir, 'cgroup.controllers')))
  } catch {
    return null
  }
  if (layout === null) return null
  try {
    return cgroupsAt(layout, platformKey, run)
  } catch {
    return null
  }
}

/** The cgroups of a layout found before; throws when they cannot be set up. */
export function cgroupsAt (layout: CgroupLayout, platformKey: string, run = process.pid): Cgroups {
  // One group per run of the platform (its pid in the name): the reaper of a
  // run killed with -9 empties that run's groups only, never those of the run
  // that replaced it; stale runs of the same home are found by the prefix.
  const family = instanceGroupName(platformKey)
  const own = `${family}-${run}`
  return layout.version === 1 ? new CgroupsV1(layout.dirs, own, family) : new CgroupsV2(layout.dir, own, family)
}

/** Groups of other runs of the same platform (same home) beside `own`, in `parent`. */
function staleRuns (parent: string, own: string, family: string): string[] {
  return subdirs(parent).filter((name) => name !== own && (name === family || (name.startsWith(`${family}-`) && /^\d+$/.test(name.slice(family.length + 1)))))
}

class CgroupsV1 implements Cgroups {
  readonly version = 1
  private readonly byController: Record<string, string> = {}

  constructor (private readonly dirs: Record<typeof V1_CONTROLLERS[number], string>, private readonly group: string, private readonly family: string) {
    for (const controller of V1_CONTROLLERS) {
      const base = join(dirs[controller], group)
      mkdirSync(base, { recursive: true })
      this.byController[controller] = base
    }
    writeFileSync(join(this.byController.cpu, 'cpu.shares'), String(INSTANCES_CPU_SHARES))
  }

  create (processName: string, limits: ProcessLimits): ProcessCgroup {
    const name = processGroupName(processName)
    const dirs = V1_CONTROLLERS.map((controller) => join(this.byController[controller], name))
    for (const dir of dirs) mkdirSync(dir)
    const group = new ProcessCgroupV1(name, dirs)
    try {
      group.setMemory(limits.memoryBytes)
      writeFileSync(join(dirs[1], 'pids.max'), String(limits.pidsMax))
    } catch (err) {
      void group.destroy()
      throw err
    }
    return group
  }

  async cleanStale (): Promise<void> {
    const runs = new Set<string>()
    for (const controller of V1_CONTROLLERS) for (const run of staleRuns(this.dirs[controller], this.group, this.family)) runs.add(run)
    await Promise.all([...runs].map(async (run) => {
      const bases = V1_CONTROLLERS.map((c) => join(this.dirs[c], run))
      const names = new Set<string>()
      for (const base of bases) for (const name of subdirs(base)) names.add(name)
      await Promise.all([...names].map(async (name) => await new ProcessCgroupV1(name, bases.map((base) => join(base, name))).destroy()))
      for (const base of bases) tryRmdir(base)
    }))
  }

  close (): void {
    for (const base of Object.values(this.byController)) tryRmdir(base)
  }

  get bases (): string[] {
    return Object.values(this.byController)
  }
}

class ProcessCgroupV1 implements ProcessCgroup {
  private memoryBytes = -1
  private destroyed: Promise<void> | null = null

  /** `dirs`: memory, pids, cpu, freezer, in the order of V1_CONTROLLERS. */
  constructor (readonly name: string, private readonly dirs: string[]) {}

  add (pid: number): void {
    for (const dir of this.dirs) writeFileSync(join(dir, 'cgroup.procs'), String(pid))
  }

  setMemory (bytes: number): void {
    if (bytes === this.memoryBytes) return
    const memory = this.dirs[0]
    const limit = join(memory, 'memory.limit_in_bytes')
    // memory+swap may never be below memory: which is written first depends on the direction.
    const swap = join(memory, 'memory.memsw.limit_in_bytes')
    const hasSwap = existsSync(swap)
    if (hasSwap && bytes > this.memoryBytes) tryWrite(swap, String(bytes))
    writeFileSync(limit, String(bytes))
    if (hasSwap) tryWrite(swap, String(bytes))
    this.memoryBytes = bytes
  }

  oomKilled (): boolean {
    const control = readOrNull(join(this.dirs[0], 'memory.oom_control')) ?? ''
    const kills = /^oom_kill (\d+)$/m.exec(control)
    if (kills !== null) return Number(kills[1]) > 0
    // Kernels before 4.13 do not count kills: a failed charge is the sign.
    return Number(readOrNull(join(this.dirs[0], 'memory.failcnt')) ?? '0') > 0
  }

  destroy (): Promise<void> {
    this.destroyed ??= this.empty()
    return this.destroyed
  }

  killNow (): void {
    // A frozen cgroup cannot fork: its list of processes is complete while they are killed.
    const freezer = this.dirs[3]
    tryWrite(join(freezer, 'freezer.state'), 'FROZEN')
    for (const pid of this.pids()) killPid(pid)
    tryWrite(join(freezer, 'freezer.state'), 'THAWED')
  }

  private async empty (): Promise<void> {
    for (let attempt = 0; attempt < EMPTY_ATTEMPTS; attempt++) {
      if (this.pids().length === 0) break
      this.killNow()
      await sleep(attempt < 10 ? 2 : 20)
    }
    await removeDirs(this.dirs)
  }

  private pids (): number[] {
    const pids = new Set<number>()
    for (const dir of this.dirs) for (const pid of readPids(dir)) pids.add(pid)
    return [...pids]
  }
}

class CgroupsV2 implements Cgroups {
  readonly version = 2
  private readonly base: string

  constructor (private readonly platformDir: string, private readonly group: string, private readonly family: string) {
    // Controllers reach a child only when its parent delegates them.
    writeFileSync(join(platformDir, 'cgroup.subtree_control'), '+memory +pids +cpu')
    this.base = join(platformDir, group)
    mkdirSync(this.base, { recursive: true })
    writeFileSync(join(this.base, 'cgroup.subtree_control'), '+memory +pids +cpu')
    writeFileSync(join(this.base, 'cpu.weight'), String(INSTANCES_CPU_WEIGHT))
  }

  create (processName: string, limits: ProcessLimits): ProcessCgroup {
    const name = processGroupName(processName)
    const dir = join(this.base, name)
    mkdirSync(dir)
    const group = new ProcessCgroupV2(name, dir)
    try {
      group.setMemory(limits.memoryBytes)
      tryWrite(join(dir, 'memory.swap.max'), '0')
      writeFileSync(join(dir, 'pids.max'), String(limits.pidsMax))
    } catch (err) {
      void group.destroy()
      throw err
    }
    return group
  }

  async cleanStale (): Promise<void> {
    await Promise.all(staleRuns(this.platformDir, this.group, this.family).map(async (run) => {
      const base = join(this.platformDir, run)
      await Promise.all(subdirs(base).map(async (name) => await new ProcessCgroupV2(name, join(base, name)).destroy()))
      tryRmdir(base)
    }))
  }

  close (): void {
    tryRmdir(this.base)
  }

  get bases (): string[] {
    return [this.base]
  }
}

class ProcessCgroupV2 implements ProcessCgroup {
  private destroyed: Promise<void> | null = null

  constructor (readonly name: string, private readonly dir: string) {}

  add (pid: number): void {
    writeFileSync(join(this.dir, 'cgroup.procs'), String(pid))
  }

  setMemory (bytes: number): void {
    writeFileSync(join(this.dir, 'memory.max'), String(bytes))
  }

  oomKilled (): boolean {
    const events = readOrNull(join(this.dir, 'memory.events')) ?? ''
    const kills = /^oom_kill (\d+)$/m.exec(events)
    return kills !== null && Number(kills[1]) > 0
  }

  destroy (): Promise<void> {
    this.destroyed ??= this.empty()
    return this.destroyed
  }

  killNow (): void {
    const kill = join(this.dir, 'cgroup.kill')
    if (existsSync(kill)) {
      tryWrite(kill, '1')
      return
    }
    tryWrite(join(this.dir, 'cgroup.freeze'), '1')
    for (const pid of readPids(this.dir)) killPid(pid)
    tryWrite(join(this.dir, 'cgroup.freeze'), '0')
  }

  private async empty (): Promise<void> {
    for (let attempt = 0; attempt < EMPTY_ATTEMPTS; attempt++) {
      if (readPids(this.dir).length === 0) break
      this.killNow()
      await sleep(attempt < 10 ? 2 : 20)
    }
    await removeDirs([this.dir])
  }
}

function readPids (dir: string): number[] {
  const text = readOrNull(join(dir, 'cgroup.procs'))
  if (text === null) return []
  const pids: number[] = []
  for (const line of text.split('\n')) {
    const pid = Number(line)
    if (line !== '' && Number.isInteger(pid) && pid > 0) pids.push(pid)
  }
  return pids
}

function killPid (pid: number): void {
  // Never the platform itself, whatever a cgroup file says.
  if (pid === process.pid) return
  try { process.kill(pid, 'SIGKILL') } catch {}
}

async function removeDirs (dirs: string[]): Promise<void> {
  for (const dir of dirs) {
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        rmdirSync(dir)
        break
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'ENOENT') break
        // EBUSY: a killed process is still on its way out.
        await sleep(10)
      }
    }
  }
}

function subdirs (dir: string): string[] {
  try {
    return readdirSync(dir, { withFileTypes: true }).filter((entry) => entry.isDirectory()).map((entry) => entry.name)
  } catch {
    return []
  }
}

function readOrNull (file: string): string | null {
  try {
    return readFileSync(file, 'utf8')
  } catch {
    return null
  }
}

function tryWrite (file: string, text: string): void {
  try { writeFileSync(file, text) } catch {}
}

function tryRmdir (dir: string): void {
  try { rmdirSync(dir) } catch {}
}
