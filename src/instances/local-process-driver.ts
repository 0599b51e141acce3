import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { chownSync, copyFileSync, rmSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'
import type { Duplex, Readable } from 'node:stream'
import { RUNTIME_HOST_ENTRY, WARM_UP_ENV } from '../runtime/index.js'
import { Isolation, makeDir, residentBytes, type IsolationOptions, type ProcessCgroup } from '../isolation/index.js'
import { systemClock, type Clock } from './clock.js'
import { ControlChannel } from './control-channel.js'
import type { ChildMessage, ControlLogLine, LoadMessage } from './control-messages.js'
import type { Driver, DriverIsolation, InstanceEvents, InstanceExit, LaunchOptions, RunningInstance } from './driver.js'
import { LineSplitter } from './line-splitter.js'
import { LOG_LINES_PER_SECOND, LogRateLimit } from './log-rate-limit.js'
import { memoryBudget } from './memory-budget.js'

// V8 prints this to stderr just before it aborts on a full heap.
const OUT_OF_MEMORY_MARKERS = ['JavaScript heap out of memory', 'Reached heap limit']
/** Processes and threads per instance: node itself runs about a dozen threads. */
export const PIDS_MAX = 64
/** How often the resident size is measured where no cgroup bounds memory. */
const RSS_POLL_MS = 250
/** After the main process exited, how long its output pipes may stay open (held by a child that is being killed). */
const OUTPUT_CLOSE_MS = 1000

export interface LocalProcessDriverOptions extends IsolationOptions {
  /** The script a process runs (default: the runtime host). */
  entry?: string
  /** What the permission model lets the runtime read when uids are not switched (default: the entry's folder and src/wire). */
  runtimeReadPaths?: string[]
  clock?: Clock
  /**
   * Node's permission model for instances that keep the platform's uid
   * (default true). Off only to measure what isolation costs (the bench).
   */
  permissionModel?: boolean
}

// Every process not ended yet, of every driver: if the platform exits without
// stopping them (a crash, process.exit), they go with it.
const running = new Set<LocalProcess>()
process.once('exit', () => { for (const instance of running) instance.killNow() })

/**
 * Runs each instance as a child node process on this machine, in its own
 * session, cgroup and temp dir, talking over fd 3 and a Unix socket.
 */
export class LocalProcessDriver implements Driver {
  readonly name = 'local'
  private readonly isolated: Isolation
  private readonly entry: string
  private readonly readPaths: string[]
  private readonly clock: Clock
  private readonly permissionModel: boolean

  constructor (options: LocalProcessDriverOptions = {}) {
    this.isolated = new Isolation(options)
    this.permissionModel = options.permissionModel ?? true
    this.entry = options.entry ?? RUNTIME_HOST_ENTRY
    this.readPaths = options.runtimeReadPaths ?? [dirname(this.entry), join(dirname(this.entry), '..', 'wire')]
    this.clock = options.clock ?? systemClock
  }

  /** Where bundles for instances go (controllers/bundle-files.ts). */
  get bundlesDir (): string {
    return this.isolated.runDir.bundles
  }

  isolation (): DriverIsolation {
    const report = this.isolated.report()
    if (!this.isolated.switchUids && !this.permissionModel) {
      return { mode: report.mode.replace('permission-model', 'no-sandbox'), details: ['no sandbox: instances run as the platform\'s uid, with its file access', ...report.details.slice(2)], switchesUids: false }
    }
    return { ...report, switchesUids: this.isolated.switchUids }
  }

  launch (options: LaunchOptions, events: InstanceEvents): RunningInstance {
    const id = randomBytes(6).toString('hex')
    const runDir = this.isolated.runDir
    const tmp = makeDir(runDir.tmpOf(id), 0o700)
    const budget = memoryBudget(options.memoryMiB)
    const args = [`--max-old-space-size=${budget.heapMiB}`, `--max-semi-space-size=${budget.semiSpaceMiB}`, '--enable-source-maps']
    // The permission model resolves its paths at start: the folder for the bundle exists before it arrives.
    if (!this.isolated.switchUids && this.permissionModel) args.push(...this.permissionFlags(makeDir(runDir.procOf(id), 0o700), tmp, runDir.socketOf(id)))
    args.push(this.entry)
    let group: ProcessCgroup | null = null
    let setupError: string | null = null
    try {
      group = this.isolated.cgroups?.create(`${options.name}-${id}`, { memoryBytes: budget.limitBytes, pidsMax: PIDS_MAX }) ?? null
    } catch (err) {
      setupError = `its cgroup could not be made: ${(err as Error).message}`
    }
    const child = spawn(process.execPath, args, {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
      // Its own session and process group: signals to the platform's group do not reach it, and it can be killed as a group.
      detached: true,
      cwd: '/',
      env: instanceEnvironment(options.warmUp === true, runDir.socketOf(id), tmp)
    })
    const launched = new LocalProcess(child, events, {
      id,
      socketPath: runDir.socketOf(id),
      tmp,
      proc: !this.isolated.switchUids && this.permissionModel ? runDir.procOf(id) : null,
      group,
      memoryMiB: options.memoryMiB,
      switchUids: this.isolated.switchUids,
      clock: this.clock
    })
    // Into its cgroup before it can run anything of a function: it runs none before `load`.
    if (setupError === null && group !== null && child.pid !== undefined) {
      try {
        group.add(child.pid)
      } catch (err) {
        setupError = `it could not be moved into its cgroup: ${(err as Error).message}`
      }
    }
    if (setupError !== null) launched.fail(setupError)
    return launched
  }

  async close (): Promise<void> {
    await this.isolated.staleCleaned
    this.isolated.close()
  }

  private permissionFlags (proc: string, tmp: string, socketPath: string): string[] {
    const flags = ['--experimental-permission', '--disable-warning=ExperimentalWarning']
    for (const path of [...this.readPaths, proc, tmp]) flags.push(`--allow-fs-read=${withSlash(path)}`)
    // The runtime makes its socket (and removes a stale one) at that one path, nothing else of the folder.
    flags.push(`--allow-fs-write=${withSlash(tmp)}`, `--allow-fs-write=${socketPath}`)
    return flags
  }
}

function withSlash (path: string): string {
  return path.endsWith('/') ? path : path + '/'
}

// Instances see a clean environment: nothing of the platform's own (its admin
// token, its home) leaks into user code. The function's env arrives with `load`.
function instanceEnvironment (warmUp: boolean, socketPath: string, tmp: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const key of ['PATH', 'LANG', 'TZ', 'NODE_EXTRA_CA_CERTS']) {
    const value = process.env[key]
    if (value !== undefined) env[key] = value
  }
  env.HOME = tmp
  env.TMPDIR = tmp
  env.ROOST_RUNTIME_SOCKET = socketPath
  // Read and removed by the host before any user code runs.
  if (warmUp) env[WARM_UP_ENV] = '1'
  return env
}

interface ProcessSetup {
  id: string
  socketPath: string
  tmp: string
  /** The folder the bundle is copied into under the permission model; null without it. */
  proc: string | null
  group: ProcessCgroup | null
  memoryMiB: number
  switchUids: boolean
  clock: Clock
}

class LocalProcess implements RunningInstance {
  private readonly channel: ControlChannel | null
  private readonly limit: LogRateLimit
  private readonly splitters: LineSplitter[] = []
  private heapOutOfMemory = false
  /** Why the platform ended it, when it did (a violation, a measured limit): named in the exit. */
  private endedBecause: { reason: string, outOfMemory: boolean } | null = null
  private exited = false
  private finished = false
  private listened = false
  private memoryLimitBytes: number
  private rssTimer: NodeJS.Timeout | null = null

  constructor (private readonly child: ChildProcess, private readonly events: InstanceEvents, private readonly setup: ProcessSetup) {
    this.memoryLimitBytes = memoryBudget(setup.memoryMiB).limitBytes
    this.limit = new LogRateLimit((count) => this.systemLine('warn', `${count} log lines dropped: the function logs faster than ${LOG_LINES_PER_SECOND} lines a second`), setup.clock)
    const control = child.stdio[3] as Duplex | null | undefined
    this.channel = control == null ? null : new ControlChannel(control, (message) => this.onMessage(message), (what) => this.onViolation(what))
    child.on('error', (err) => {
      // Spawn failed: there will be no exit event.
      if (child.pid === undefined) void this.finish(null, null, `it could not be started: ${err.message}`)
    })
    child.on('exit', (code, signal) => { void this.finish(code, signal, null) })
    this.captureOutput(child.stdout, 'stdout')
    this.captureOutput(child.stderr, 'stderr')
    if (setup.group === null && child.pid !== undefined) this.watchResidentSize(child.pid)
    running.add(this)
  }

  get pid (): number | undefined {
    return this.child.pid
  }

  get socketPath (): string {
    return this.setup.socketPath
  }

  load (message: LoadMessage, memoryMiB: number): void {
    if (this.exited) return
    try {
      this.memoryLimitBytes = memoryBudget(memoryMiB).limitBytes
      this.setup.group?.setMemory(this.memoryLimitBytes)
      let bundlePath = message.bundlePath
      if (this.setup.switchUids) {
        if (message.uid !== undefined && message.gid !== undefined) chownSync(this.setup.tmp, message.uid, message.gid)
      } else if (this.setup.proc !== null) {
        // Under the permission model the process may read only its own folder: the bundle is copied there.
        bundlePath = join(this.setup.proc, basename(message.bundlePath))
        copyFileSync(message.bundlePath, bundlePath)
      }
      const { uid, gid, ...rest } = message
      this.channel?.send(this.setup.switchUids ? { ...rest, bundlePath, uid, gid } : { ...rest, bundlePath })
    } catch (err) {
      this.fail(`it could not be prepared for its function: ${(err as Error).message}`)
    }
  }

  ping (id: number): void { this.channel?.send({ t: 'ping', id }) }
  drain (): void { this.channel?.send({ t: 'drain' }) }

  kill (): void {
    if (this.exited) return
    try { this.child.kill('SIGKILL') } catch {}
    // Whatever it started goes too, cgroup or not.
    void this.setup.group?.destroy()
  }

  /** Synchronous, for the platform's own exit: the process, its process group and its cgroup, killed now. */
  killNow (): void {
    const pid = this.child.pid
    if (pid !== undefined) {
      try { process.kill(-pid, 'SIGKILL') } catch {}
      try { process.kill(pid, 'SIGKILL') } catch {}
    }
    this.setup.group?.killNow()
  }

  /** Ends the process for a reason of the platform's; the exit names it. */
  fail (reason: string, outOfMemory = false): void {
    this.endedBecause ??= { reason, outOfMemory }
    this.kill()
  }

  private onMessage (message: ChildMessage): void {
    switch (message.t) {
      case 'listening':
        if (this.listened) {
          this.onViolation('listening sent a second time')
          return
        }
        this.listened = true
        this.events.onListening(message.secret)
        break
      case 'ready': this.events.onReady(message.loadMs); break
      case 'load-failed': this.events.onLoadFailed(message.reason); break
      case 'logs': this.forwardLogs(message.lines, message.dropped); break
      case 'pong': this.events.onPong(message.id, { elu: message.elu, cpuUs: message.cpuUs }); break
      case 'drained': this.events.onDrained(); break
    }
  }

  private onViolation (what: string): void {
    if (this.exited) return
    this.fail(`protocol violation: ${what}`)
    this.events.onProtocolViolation(what)
  }

  private forwardLogs (lines: ControlLogLine[], dropped: number): void {
    const admitted = this.limit.admit(lines.length, dropped)
    if (admitted > 0) this.events.onLogs(admitted === lines.length ? lines : lines.slice(0, admitted), 0)
  }

  private systemLine (level: ControlLogLine['level'], message: string): void {
    this.events.onLogs([{ time: Date.now(), level, stream: 'system', requestId: null, message }], 0)
  }

  private captureOutput (stream: Readable | null, name: 'stdout' | 'stderr'): void {
    if (stream === null) return
    const splitter = new LineSplitter((text, truncated) => {
      if (text.length === 0 && !truncated) return
      if (name === 'stderr' && !this.heapOutOfMemory && OUT_OF_MEMORY_MARKERS.some((marker) => text.includes(marker))) this.heapOutOfMemory = true
      if (this.limit.admit(1) === 0) return
      this.events.onLogs([{
        time: Date.now(),
        level: name === 'stderr' ? 'error' : 'info',
        stream: name,
        requestId: null,
        message: truncated ? text + ' …[truncated]' : text
      }], 0)
    }, this.setup.clock)
    this.splitters.push(splitter)
    stream.on('data', (chunk: Buffer) => splitter.push(chunk))
    stream.on('error', () => {})
  }

  private watchResidentSize (pid: number): void {
    this.rssTimer = setInterval(() => {
      const bytes = residentBytes(pid)
      if (bytes !== null && bytes > this.memoryLimitBytes) {
        this.fail(`out of memory (resident ${mib(bytes)} MiB over the limit of ${mib(this.memoryLimitBytes)} MiB)`, true)
      }
    }, RSS_POLL_MS)
    this.rssTimer.unref()
  }

  /** The main process ended: every process it started ends too, its files go, then the owner hears of it. */
  private async finish (code: number | null, signal: string | null, failure: string | null): Promise<void> {
    if (this.finished) return
    this.finished = true
    this.exited = true
    running.delete(this)
    if (this.rssTimer !== null) clearInterval(this.rssTimer)
    const group = this.setup.group
    const cgroupOutOfMemory = group?.oomKilled() ?? false
    if (group !== null) {
      await group.destroy()
    } else if (this.child.pid !== undefined) {
      // No cgroup: what stayed in its process group goes (a child that made a session of its own escapes this).
      try { process.kill(-this.child.pid, 'SIGKILL') } catch {}
    }
    // Output still buffered in the pipes belongs before the exit.
    await this.outputClosed()
    for (const splitter of this.splitters) splitter.end()
    this.limit.flush()
    this.channel?.close()
    for (const path of [this.setup.tmp, this.setup.proc ?? this.setup.tmp, this.setup.socketPath]) {
      try { rmSync(path, { recursive: true, force: true }) } catch {}
    }
    const outOfMemory = this.heapOutOfMemory || cgroupOutOfMemory || (this.endedBecause?.outOfMemory ?? false)
    const reason = failure ?? this.endedBecause?.reason ?? describeExit(code, signal, this.heapOutOfMemory, cgroupOutOfMemory, this.memoryLimitBytes)
    const exit: InstanceExit = { code, signal, reason, outOfMemory }
    this.events.onExit(exit)
  }

  private async outputClosed (): Promise<void> {
    const streams = [this.child.stdout, this.child.stderr].filter((s): s is Readable => s !== null && !s.destroyed && !s.readableEnded)
    if (streams.length === 0) return
    await new Promise<void>((resolve) => {
      let open = streams.length
      const timer = setTimeout(done, OUTPUT_CLOSE_MS)
      function done (): void {
        clearTimeout(timer)
        resolve()
      }
      for (const stream of streams) {
        stream.once('close', () => { if (--open === 0) done() })
      }
    })
    for (const stream of streams) stream.destroy()
  }
}

function mib (bytes: number): number {
  return Math.round(bytes / 1048576)
}

function describeExit (code: number | null, signal: string | null, heap: boolean, cgroup: boolean, limitBytes: number): string {
  if (heap) return 'out of memory (V8 heap limit reached)'
  if (cgroup) return `out of memory (the process used its limit of ${mib(limitBytes)} MiB and the kernel killed it)`
  if (signal !== null) return `killed (${signal})`
  if (code === 70) return 'uncaught exception'
  if (code === 71) return 'the module failed to load'
  if (code === 72) return 'the runtime could not start'
  return `exit code ${String(code)}`
}
