// Test harness: a real `roost up` in a child process with its own temporary
// ROOST_HOME and free ports, driven through the CLI and over HTTP.
import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { isProcessAlive } from '../../src/home/index.js'
import { familyOf, groupMembers, killGroup, killGroupAtExit, stillRunning, type ProcessEntry } from './leave-nothing.js'

export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url))
export const ROOST_BIN = join(REPO_ROOT, 'bin', 'roost')

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

export interface ClientConfig {
  api: string
  gateway: string
  token: string
}

// How long a gracefully stopped platform's processes get to exit after it has.
const LEFT_BEHIND_GRACE_MS = 5_000

export interface StartOptions {
  /** Reuse a home (to test restarts); default: a new temporary one. */
  home?: string
  args?: string[]
}

export class TestPlatform {
  private exited: Promise<number | null>
  private killed = false
  output = ''

  private constructor (readonly home: string, readonly child: ChildProcess, readonly config: ClientConfig) {
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null) resolve(child.exitCode)
      else child.once('exit', (code) => resolve(code))
    })
  }

  static async start (options: StartOptions = {}): Promise<TestPlatform> {
    const home = options.home ?? mkdtempSync(join(tmpdir(), 'roost-test-'))
    const child = spawn(process.execPath, [ROOST_BIN, 'up', '--port', '0', '--api-port', '0', ...(options.args ?? [])], {
      env: { ...process.env, ROOST_HOME: home },
      stdio: ['ignore', 'pipe', 'pipe'],
      // A group of its own: the platform and every process it starts can be found and killed together.
      detached: true
    })
    if (child.pid !== undefined) killGroupAtExit(child.pid)
    let output = ''
    child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString() })
    child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString() })
    await waitFor(() => output.includes('press Ctrl-C') || child.exitCode !== null, 20_000, () => `roost up did not start:\n${output}`)
    if (child.exitCode !== null) throw new Error(`roost up exited with ${child.exitCode}:\n${output}`)
    const config = JSON.parse(readFileSync(join(home, 'config'), 'utf8')) as ClientConfig
    const platform = new TestPlatform(home, child, config)
    child.stdout?.on('data', (chunk: Buffer) => { platform.output += chunk.toString() })
    platform.output = output
    return platform
  }

  get pid (): number {
    return this.child.pid as number
  }

  /** Runs the CLI against this platform. */
  cli (args: string[], options: { input?: string, cwd?: string, env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
    return runCli(args, { ...options, env: { ROOST_HOME: this.home, ...options.env } })
  }

  /** Calls the gateway. */
  fetch (path: string, init?: RequestInit): Promise<Response> {
    return fetch(this.config.gateway + path, init)
  }

  /** Calls the REST API with the admin token (or the given one). */
  api (path: string, init: RequestInit & { token?: string | null } = {}): Promise<Response> {
    const headers = new Headers(init.headers)
    if (init.token !== null) headers.set('authorization', `Bearer ${init.token ?? this.config.token}`)
    return fetch(this.config.api + path, { ...init, headers })
  }

  async instances (namespace = 'default'): Promise<Array<{ id: string, function: string, version: number, state: string, pid: number, port: number }>> {
    const response = await this.api(`/apis/roost.dev/v1/instances?namespace=${namespace}`)
    return (await response.json() as { items: Array<{ id: string, function: string, version: number, state: string, pid: number, port: number }> }).items
  }

  /**
   * Stops with SIGTERM and waits; the home is removed unless `keepHome`. A
   * graceful stop must end every process the platform started: what is still
   * running a few seconds later is killed, and the stop fails naming it.
   * After `kill()` it only clears up what the killed platform left.
   */
  async stop (options: { keepHome?: boolean } = {}): Promise<number | null> {
    const graceful = this.child.exitCode === null && this.child.signalCode === null && !this.killed
    // Instances run in sessions of their own: the platform's family, not its group, is what must end.
    const family = graceful ? familyOf(this.pid).map((p) => p.pid) : []
    if (graceful) this.child.kill('SIGTERM')
    const code = await this.exited
    const left = await this.leftBehind(graceful ? LEFT_BEHIND_GRACE_MS : 0, family)
    if (options.keepHome !== true) rmSync(this.home, { recursive: true, force: true })
    if (graceful && left.length > 0) throw new Error(`roost up stopped but left processes behind (killed now):\n${left.map((p) => `  ${p.pid} ${p.args}`).join('\n')}`)
    return code
  }

  /**
   * Waits up to `graceMs` for the platform's process group and the processes
   * it had started (`family`) to be gone, then kills what is left and returns it.
   */
  async leftBehind (graceMs: number, family: number[] = []): Promise<ProcessEntry[]> {
    const pgid = this.pid
    const deadline = Date.now() + graceMs
    const survivors = (): ProcessEntry[] => [...groupMembers(pgid), ...stillRunning(family).filter((p) => p.pgid !== pgid)]
    let left = survivors()
    while (left.length > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 50))
      left = survivors()
    }
    if (left.length > 0) {
      killGroup(pgid)
      for (const p of left) {
        try { process.kill(p.pid, 'SIGKILL') } catch {}
      }
      await waitFor(() => survivors().length === 0, 5_000, () => `processes of ${pgid} survive SIGKILL`)
    }
    return left
  }

  /**
   * SIGKILL of the platform process alone: no cleanup at all, as a crash or an
   * OOM kill. What it started is left to exit by itself (tests check that);
   * whatever has not when the test process ends is killed then.
   */
  async kill (): Promise<void> {
    this.killed = true
    this.child.kill('SIGKILL')
    await this.exited
  }
}

export function runCli (args: string[], options: { input?: string, cwd?: string, env?: NodeJS.ProcessEnv } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(process.execPath, [ROOST_BIN, ...args], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      maxBuffer: 16 * 1024 * 1024
    }, (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (typeof error.code === 'number' ? error.code : 1), stdout, stderr })
    })
    if (options.input !== undefined) child.stdin?.end(options.input)
  })
}

export async function waitFor (check: () => boolean | Promise<boolean>, timeoutMs: number, message: () => string = () => 'condition not met'): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${message()}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

/** Writes files (path → text) under a new temporary folder and returns it. */
export function writeProject (files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'roost-fn-'))
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true })
    writeFileSync(join(dir, path), text)
  }
  return dir
}

/** A one-function manifest; `spec` is YAML lines for the spec block, indented by 2. */
export function manifest (name: string, spec: string, metadata = ''): string {
  return `apiVersion: roost.dev/v1
kind: Function
metadata:
  name: ${name}
${metadata}spec:
${spec.split('\n').filter((line) => line.trim() !== '').map((line) => `  ${line}`).join('\n')}
`
}

/** Whether a process runs (a zombie does not). */
export function isAlive (pid: number): boolean {
  return isProcessAlive(pid)
}
