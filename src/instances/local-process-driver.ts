import { spawn, type ChildProcess } from 'node:child_process'
import { createInterface } from 'node:readline'
import type { Readable } from 'node:stream'
import { RUNTIME_HOST_ENTRY, WARM_UP_ENV, type ChildMessage, type LoadMessage, type ParentMessage, type RuntimeLogLine } from '../runtime/index.js'
import type { Driver, InstanceEvents, InstanceExit, LaunchOptions, RunningInstance } from './driver.js'

// V8 prints this to stderr just before it aborts on a full heap.
const OUT_OF_MEMORY_MARKERS = ['JavaScript heap out of memory', 'Reached heap limit']
const MAX_OUTPUT_LINE = 16 * 1024

/** Runs each instance as a child node process on this machine. */
export class LocalProcessDriver implements Driver {
  readonly name = 'local'

  launch (options: LaunchOptions, events: InstanceEvents): RunningInstance {
    const child = spawn(process.execPath, [
      `--max-old-space-size=${options.memoryMiB}`,
      '--enable-source-maps',
      RUNTIME_HOST_ENTRY
    ], {
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
      env: instanceEnvironment(options.warmUp === true),
      serialization: 'json'
    })
    return new LocalProcess(child, events)
  }
}

// Instances see a clean environment: nothing of the platform's own (its admin
// token, its home) leaks into user code. The function's env arrives with `load`.
function instanceEnvironment (warmUp: boolean): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {}
  for (const key of ['PATH', 'LANG', 'TZ', 'TMPDIR', 'HOME', 'NODE_EXTRA_CA_CERTS']) {
    const value = process.env[key]
    if (value !== undefined) env[key] = value
  }
  // Read and removed by the host before any user code runs.
  if (warmUp) env[WARM_UP_ENV] = '1'
  return env
}

class LocalProcess implements RunningInstance {
  private outOfMemory = false
  private exited = false

  constructor (private readonly child: ChildProcess, private readonly events: InstanceEvents) {
    child.on('message', (message: ChildMessage) => this.onMessage(message))
    child.on('error', () => { /* spawn errors surface as exit */ })
    child.on('exit', (code, signal) => this.onExit(code, signal))
    this.captureOutput(child.stdout, 'stdout')
    this.captureOutput(child.stderr, 'stderr')
  }

  get pid (): number | undefined {
    return this.child.pid
  }

  load (message: LoadMessage): void { this.send(message) }
  ping (id: number): void { this.send({ t: 'ping', id }) }
  drain (): void { this.send({ t: 'drain' }) }

  kill (): void {
    if (!this.exited) this.child.kill('SIGKILL')
  }

  private send (message: ParentMessage): void {
    if (this.child.connected) this.child.send(message)
  }

  private onMessage (message: ChildMessage): void {
    switch (message.t) {
      // The runtime now speaks the framed hop of docs/internal-protocol.md; this driver is rebuilt on the instances branch.
      case 'listening': break
      case 'ready': this.events.onReady(message.loadMs); break
      case 'load-failed': this.events.onLoadFailed(message.reason); break
      case 'logs': this.events.onLogs(message.lines, message.dropped); break
      case 'pong': this.events.onPong(message.id); break
      case 'drained': this.events.onDrained(); break
    }
  }

  private onExit (code: number | null, signal: NodeJS.Signals | null): void {
    if (this.exited) return
    this.exited = true
    const exit: InstanceExit = { code, signal, reason: describeExit(code, signal, this.outOfMemory), outOfMemory: this.outOfMemory }
    // Output still buffered in the pipes belongs before the exit.
    setImmediate(() => this.events.onExit(exit))
  }

  private captureOutput (stream: Readable | null, name: 'stdout' | 'stderr'): void {
    if (stream === null) return
    const lines = createInterface({ input: stream, crlfDelay: Infinity })
    lines.on('line', (text: string) => {
      if (text.length === 0) return
      if (name === 'stderr' && OUT_OF_MEMORY_MARKERS.some((marker) => text.includes(marker))) this.outOfMemory = true
      const line: RuntimeLogLine = {
        time: Date.now(),
        level: name === 'stderr' ? 'error' : 'info',
        stream: name,
        requestId: null,
        message: text.length > MAX_OUTPUT_LINE ? text.slice(0, MAX_OUTPUT_LINE) + ' …[truncated]' : text
      }
      this.events.onLogs([line], 0)
    })
  }
}

function describeExit (code: number | null, signal: string | null, outOfMemory: boolean): string {
  if (outOfMemory) return 'out of memory (V8 heap limit reached)'
  if (signal !== null) return `killed (${signal})`
  if (code === 70) return 'uncaught exception'
  if (code === 71) return 'the module failed to load'
  return `exit code ${String(code)}`
}
