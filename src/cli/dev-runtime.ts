import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import { memoryBudget } from '../instances/index.js'
import { RUNTIME_SERVE_ENTRY } from '../runtime/index.js'
import type { DevTarget } from './dev-target.js'

// One run of the function: the platform's runtime in its HTTP mode as a child
// process, with the environment and memory bound an instance of it would get.

export type StartOutcome = { ok: true, port: number } | { ok: false, portInUse: boolean, output: string[], code: number | null, signal: string | null }

export interface RuntimeOptions {
  target: DevTarget
  bundlePath: string
  host: string
  port: number
  home: string // HOME and TMPDIR of the function, as an instance has its own
  print: (line: string) => void
}

const GUARD_URL = new URL('./dev-parent-guard.js', import.meta.url).href
const LISTENING = /^listening on http:\/\/.*:(\d+)$/
const STAMPED = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d/
const STOP_GRACE_MS = 3000

export class DevRuntime {
  readonly ready: Promise<StartOutcome>
  /** Settles once the process and its output are gone. */
  readonly closed: Promise<{ code: number | null, signal: string | null }>
  private listening = false
  /** Set once `roost dev` asked it to end: its exit is then no news. */
  stopRequested = false
  private readonly early: string[] = []
  private readonly child: ChildProcess

  constructor (private readonly options: RuntimeOptions) {
    const { target } = options
    const budget = memoryBudget(target.memoryMiB)
    const args = [
      `--max-old-space-size=${budget.heapMiB}`, `--max-semi-space-size=${budget.semiSpaceMiB}`, '--enable-source-maps', `--import=${GUARD_URL}`,
      RUNTIME_SERVE_ENTRY, '--bundle', options.bundlePath, '--port', String(options.port), '--host', options.host, '--timeout', String(target.timeoutMs)
    ]
    // Its own process group: Ctrl-C reaches `roost dev` only, which then ends the group, whatever the function started.
    this.child = spawn(process.execPath, args, { stdio: ['pipe', 'pipe', 'pipe'], detached: true, cwd: '/', env: environmentOf(target, options.home) })
    let settle: (outcome: StartOutcome) => void = () => {}
    this.ready = new Promise((resolve) => { settle = resolve })
    this.closed = new Promise((resolve) => {
      this.child.once('close', (code, signal) => {
        // What the function started may outlive the runtime: its group goes with it.
        if (this.child.pid !== undefined) signalGroup(this.child.pid, 'SIGKILL')
        resolve({ code, signal })
        if (!this.listening) settle({ ok: false, portInUse: this.early.some((line) => line.includes('EADDRINUSE')), output: this.early, code, signal })
      })
    })
    this.child.once('error', (err) => this.early.push(`the runtime could not be started: ${err.message}`))
    createInterface({ input: this.child.stdout!, crlfDelay: Infinity }).on('line', (line) => {
      const port = this.listening ? undefined : LISTENING.exec(line)?.[1]
      if (port === undefined) {
        this.options.print(STAMPED.test(line) ? line : `${new Date().toISOString()} stdout - ${line}`)
        return
      }
      this.listening = true
      settle({ ok: true, port: Number(port) })
    })
    // Until it listens, what it writes on stderr explains a failed start (load error, port in use) and is shown with it.
    createInterface({ input: this.child.stderr!, crlfDelay: Infinity }).on('line', (line) => {
      if (this.listening) this.options.print(`${new Date().toISOString()} stderr - ${line}`)
      else this.early.push(line)
    })
  }

  get pid (): number | undefined {
    return this.child.pid
  }

  get running (): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** Ends its whole process group: SIGTERM, then SIGKILL if it lingers. A runtime already gone is not signalled (its pid may be another's by now). */
  async stop (): Promise<void> {
    this.stopRequested = true
    const pid = this.child.pid
    if (pid === undefined || !this.running) {
      await this.closed
      return
    }
    signalGroup(pid, 'SIGTERM')
    const timer = setTimeout(() => signalGroup(pid, 'SIGKILL'), STOP_GRACE_MS)
    await this.closed
    clearTimeout(timer)
  }
}

function signalGroup (pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal)
  } catch {
    // ESRCH: the group is already empty.
  }
}

// A clean environment, as an instance has: nothing of the developer's shell
// but what a platform passes on, then the function's own env.
function environmentOf (target: DevTarget, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const key of ['PATH', 'LANG', 'TZ', 'NODE_EXTRA_CA_CERTS']) {
    const value = process.env[key]
    if (value !== undefined) env[key] = value
  }
  env.HOME = home
  env.TMPDIR = home
  return { ...env, ...target.env }
}
