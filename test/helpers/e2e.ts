// Small helpers for end-to-end tests on top of platform.ts: assertions on CLI
// results, long-running CLI children (`logs -f`, an apply to interrupt) and
// process checks.
import { spawn, type ChildProcess } from 'node:child_process'
import { readFileSync } from 'node:fs'
import assert from 'node:assert/strict'
import { ROOST_BIN, isAlive, waitFor, type CliResult, type TestPlatform } from './platform.js'

/** Asserts that a CLI run succeeded and returns its standard output. */
export function ok (result: CliResult, what = 'the command'): string {
  assert.equal(result.code, 0, `${what} exited with ${result.code}\nstdout: ${result.stdout}\nstderr: ${result.stderr}`)
  return result.stdout
}

/** Runs the CLI and parses what it printed with `-o json`. */
export async function cliJson<T> (platform: TestPlatform, args: string[]): Promise<T> {
  return JSON.parse(ok(await platform.cli([...args, '-o', 'json']), `roost ${args.join(' ')} -o json`)) as T
}

export interface VersionItem {
  number: number
  bundleHash: string
  config: { timeoutMs: number, memoryMiB: number, concurrency: number, env: Record<string, string> }
  traffic: number
  tag: string | null
}

export interface InstanceItem {
  id: string
  namespace: string
  function: string
  version: number
  state: string
  pid: number | null
  port: number
}

/** Versions as the API lists them (the CLI's `get versions -o json` prints the same items). */
export async function versionsOf (platform: TestPlatform, name: string, namespace = 'default'): Promise<VersionItem[]> {
  const response = await platform.api(`/apis/roost.dev/v1/namespaces/${namespace}/functions/${name}/versions`)
  assert.equal(response.status, 200, `versions of ${name}.${namespace}: HTTP ${response.status}`)
  return (await response.json() as { items: VersionItem[] }).items
}

/** A function's instances as the API lists them; cheaper than a CLI run for polling. */
export async function instancesOf (platform: TestPlatform, name: string, namespace = 'default'): Promise<InstanceItem[]> {
  const response = await platform.api(`/apis/roost.dev/v1/instances?namespace=${namespace}`)
  assert.equal(response.status, 200, `instances of ${namespace}: HTTP ${response.status}`)
  return (await response.json() as { items: InstanceItem[] }).items.filter((instance) => instance.function === name)
}

/** Status and body of a gateway request. */
export async function call (platform: TestPlatform, path: string, init?: RequestInit): Promise<{ status: number, body: string, headers: Headers }> {
  const response = await platform.fetch(path, init)
  return { status: response.status, body: await response.text(), headers: response.headers }
}

/** The body of a gateway request that must answer 200. */
export async function text (platform: TestPlatform, path: string, init?: RequestInit): Promise<string> {
  const { status, body } = await call(platform, path, init)
  assert.equal(status, 200, `GET ${path} answered ${status}: ${body}`)
  return body
}

/** Waits until none of the processes is alive any more (zombies count as gone). */
export async function waitForExit (pids: number[], timeoutMs = 10_000): Promise<void> {
  await waitFor(() => pids.every((pid) => !isAlive(pid)), timeoutMs, () => `processes still alive: ${pids.filter((pid) => isAlive(pid)).join(', ')}`)
}

export function portOf (url: string): number {
  return Number(new URL(url).port)
}

/** A CLI process left running (e.g. `roost logs -f`), with what it printed so far. */
export class CliChild {
  stdout = ''
  stderr = ''
  readonly exited: Promise<number | null>

  constructor (readonly child: ChildProcess) {
    child.stdout?.on('data', (chunk: Buffer) => { this.stdout += chunk.toString() })
    child.stderr?.on('data', (chunk: Buffer) => { this.stderr += chunk.toString() })
    this.exited = new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode)
      else child.once('exit', (code) => resolve(code))
    })
  }

  get pid (): number {
    return this.child.pid as number
  }

  get running (): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** Kills this process (only it) and waits for it to be gone. */
  async kill (signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    if (this.running) this.child.kill(signal)
    await this.exited
  }
}

/** Starts `roost ARGS` with ROOST_HOME=home and returns at once. */
export function spawnCli (home: string, args: string[], options: { cwd?: string } = {}): CliChild {
  const child = spawn(process.execPath, [ROOST_BIN, ...args], {
    cwd: options.cwd,
    env: { ...process.env, ROOST_HOME: home },
    stdio: ['ignore', 'pipe', 'pipe']
  })
  return new CliChild(child)
}

/**
 * Runs `roost ARGS` that is expected to end by itself; a child still running
 * after `timeoutMs` is killed and reported as such instead of hanging the test.
 */
export async function runCliBounded (home: string, args: string[], timeoutMs: number): Promise<CliResult & { timedOut: boolean }> {
  const cli = spawnCli(home, args)
  let timedOut = false
  const timer = setTimeout(() => {
    timedOut = true
    cli.child.kill('SIGKILL')
  }, timeoutMs)
  const code = await cli.exited
  clearTimeout(timer)
  return { code: code ?? -1, stdout: cli.stdout, stderr: cli.stderr, timedOut }
}

/** TCP connections to `port` on 127.0.0.1 that are established, from /proc/net/tcp. */
export function establishedConnectionsTo (port: number): number {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0')
  let count = 0
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let table: string
    try {
      table = readFileSync(file, 'utf8')
    } catch {
      continue
    }
    for (const line of table.split('\n').slice(1)) {
      const fields = line.trim().split(/\s+/)
      if (fields.length < 4) continue
      // local address, remote address, state (01 = ESTABLISHED); the client side has the port as remote.
      if (fields[2].endsWith(`:${hexPort}`) && fields[3] === '01') count++
    }
  }
  return count
}
