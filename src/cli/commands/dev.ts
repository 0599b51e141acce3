import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { bundleInline, bundleSource, type BundleResult } from '../../bundler/index.js'
import { BuildError, StartupError, UsageError, isRoostError } from '../../errors/index.js'
import { DevRuntime } from '../dev-runtime.js'
import { findTarget, type DevTarget } from '../dev-target.js'
import { withAbsoluteSources } from '../dev-source-map.js'
import { FileSetWatcher } from '../dev-watch.js'

export const command: Command = {
  summary: 'Run a function locally, rebuilding and reloading it on every save.',
  usage: `Usage: roost dev [DIR|FILE.yaml|FILE.ts] [--port 8787] [--host 127.0.0.1]

Builds the function (the one Function of DIR/roost.yaml, of FILE.yaml, or a
source file with the defaults of a manifest) and serves it at
http://HOST:PORT/ with the platform's runtime, its spec.env applied. Every
save of a file the bundle reads (or of the manifest) rebuilds it and restarts
the runtime on the same port; a build error is printed and the previous
version keeps serving. Console lines are printed as they come. Ctrl-C stops.
No platform is needed.

Flags:
      --port   port to serve on (default: 8787; 0 picks a free one)
      --host   address to listen on (default: 127.0.0.1)`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('dev', argv, {
      port: { type: 'string', default: '8787' },
      host: { type: 'string', default: '127.0.0.1' }
    })
    if (positionals.length > 1) throw new UsageError('roost dev runs one function', { hint: 'pass one folder, manifest or source file' })
    const port = Number(values.port)
    if (!Number.isInteger(port) || port < 0 || port > 65535 || !/^\d+$/.test(values.port ?? '')) {
      throw new UsageError(`--port must be a port number from 0 to 65535, got "${values.port ?? ''}"`, { hint: 'e.g. --port 8787, or --port 0 for a free one' })
    }
    const session = new DevSession(findTarget(positionals[0] ?? '.'), values.host ?? '127.0.0.1', port)
    return await session.run()
  }
}

const RELOAD_HINT = 'fix it and save; the previous version keeps serving'

/** One `roost dev`: builds, serves, and on every save rebuilds and restarts, until a signal. */
class DevSession {
  private readonly folder = mkdtempSync(join(tmpdir(), 'roost-dev-'))
  private readonly home = join(this.folder, 'home')
  private readonly watcher = new FileSetWatcher(() => this.queueReload())
  private runtime: DevRuntime | undefined
  private served: { hash: string, target: DevTarget } | undefined
  private work: Promise<void> = Promise.resolve()
  private queued = false
  private stopping = false
  private watchedInputs: string[] = []
  private servedOnce = false

  constructor (private target: DevTarget, private readonly host: string, private port: number) {
    mkdirSync(this.home, { mode: 0o700 })
  }

  async run (): Promise<number> {
    let finish: () => void = () => {}
    const stopped = new Promise<void>((resolve) => { finish = resolve })
    const onSignal = (): void => { void this.stop().then(finish) }
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, onSignal)
    try {
      // Saves during the first start wait for it, as they wait for each other.
      const starting = this.start()
      this.work = starting.catch(() => {})
      await starting
      await stopped
      return 0
    } finally {
      for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.off(signal, onSignal)
      await this.stop()
    }
  }

  // The first build and start: what fails here ends `roost dev`, except a function that fails to load, which a save can fix.
  private async start (): Promise<void> {
    const built = await this.build(this.target).catch((err: unknown) => {
      throw err instanceof BuildError ? new BuildError(err.message, { field: err.field, hint: 'fix the source and run roost dev again', cause: err.cause }) : err
    })
    if (this.stopping) return
    this.watch(built.inputs)
    await this.serve(built, this.target, true)
  }

  private queueReload (): void {
    if (this.queued || this.stopping) return
    this.queued = true
    this.work = this.work.then(async () => {
      this.queued = false
      await this.reload().catch((err: unknown) => report(`unexpected failure: ${(err as Error).stack ?? String(err)}`, 'this is a bug in roost; please report it with the command you ran'))
    })
  }

  private async reload (): Promise<void> {
    if (this.stopping) return
    let target: DevTarget
    let built: BundleResult
    try {
      target = this.target.manifest === undefined ? this.target : findTarget(this.target.manifest)
      built = await this.build(target)
    } catch (err) {
      if (!isRoostError(err)) throw err
      report(err.message, RELOAD_HINT)
      this.watch([...this.watchedInputs, ...errorFilesOf(err, this.target.root)])
      return
    }
    if (this.stopping) return
    this.target = target
    this.watch(built.inputs)
    if (this.runtime?.running === true && this.served !== undefined && this.served.hash === built.hash && sameConfig(this.served.target, target)) return
    await this.serve(built, target, false)
  }

  private watch (inputs: string[]): void {
    // node_modules changes only with npm install; watching it would cost a watch per folder of every package.
    this.watchedInputs = inputs.filter((file) => !file.split('/').includes('node_modules'))
    this.watcher.set(this.target.manifest === undefined ? this.watchedInputs : [...this.watchedInputs, this.target.manifest])
  }

  private async build (target: DevTarget): Promise<BundleResult> {
    const source = target.source
    const built = typeof source === 'string'
      ? await bundleSource({ source, root: target.root })
      : await bundleInline({ code: source.inline, loader: source.loader, name: target.name })
    for (const warning of built.warnings) process.stderr.write(`warning: ${warning}\n`)
    return built
  }

  private async serve (built: BundleResult, target: DevTarget, first: boolean): Promise<void> {
    const bundlePath = join(this.folder, `${target.name}.mjs`)
    // Written whole, then renamed: a runtime never imports half a bundle.
    writeFileSync(`${bundlePath}.part`, typeof target.source === 'string' ? withAbsoluteSources(built.code, target.root) : built.code)
    renameSync(`${bundlePath}.part`, bundlePath)
    await this.runtime?.stop()
    if (this.stopping) return
    const runtime = new DevRuntime({ target, bundlePath, host: this.host, port: this.port, home: this.home, print: (line) => process.stdout.write(`${line}\n`) })
    this.runtime = runtime
    const outcome = await runtime.ready
    if (this.stopping) return
    if (!outcome.ok) {
      this.served = undefined
      if (outcome.portInUse) {
        const cause = `${this.host}:${this.port} is in use`
        if (first) throw new StartupError(`roost dev cannot listen on ${cause}`, { hint: 'stop what listens there, or pass --port N (0 picks a free one)' })
        report(`${target.name} could not restart: ${cause}`, 'free the port and save again')
        return
      }
      for (const line of outcome.output) process.stderr.write(`${line}\n`)
      report(`${target.name} failed to start (${outcome.signal ?? `exit code ${String(outcome.code)}`})`, 'fix the function and save; roost dev starts it again')
      return
    }
    // Port 0 picks a free port once; every restart then keeps the URL.
    this.port = outcome.port
    this.served = { hash: built.hash, target }
    process.stdout.write(`roost dev: ${this.servedOnce ? 'reloaded' : 'serving'} ${target.name} at '${urlOf(this.host, outcome.port)}'\n`)
    this.servedOnce = true
    void runtime.closed.then(({ code, signal }) => {
      if (runtime.stopRequested || this.stopping) return
      report(`${target.name} stopped serving (${signal ?? `exit code ${String(code)}`})`, 'fix the function and save; roost dev starts it again')
    })
  }

  private async stop (): Promise<void> {
    if (!this.stopping) {
      this.stopping = true
      this.watcher.close()
    }
    await this.work
    await this.runtime?.stop()
    rmSync(this.folder, { recursive: true, force: true })
  }
}

function report (cause: string, hint: string): void {
  process.stderr.write(`error: ${cause}\nhint: ${hint}\n`)
}

function urlOf (host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}/`
}

function sameConfig (a: DevTarget, b: DevTarget): boolean {
  return a.name === b.name && a.timeoutMs === b.timeoutMs && a.memoryMiB === b.memoryMiB && JSON.stringify(a.env) === JSON.stringify(b.env)
}

// A file that fails to build may be new to the bundle: it is watched too, so that fixing it rebuilds.
function errorFilesOf (err: Error, root: string): string[] {
  const errors = (err.cause as { errors?: Array<{ location?: { file?: string } | null }> } | undefined)?.errors ?? []
  return errors.flatMap((error) => error.location?.file === undefined ? [] : [resolve(root, error.location.file)])
}
