import { after } from 'node:test'
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { InstanceManager, LocalProcessDriver, versionKey, type InstanceEvent, type InstanceInfo, type InstanceLogLine, type InstanceManagerOptions, type LocalProcessDriverOptions, type VersionTarget } from '../../src/instances/index.js'
// Whatever runtime process a test leaves running dies with the test process.
import '../helpers/leave-nothing.js'

export const ok = 'export default () => new Response("ok")'

/** The stand-in runtime that speaks the control protocol (see fake-runtime.ts). */
export const FAKE_RUNTIME = fileURLToPath(new URL('./fake-runtime.js', import.meta.url))
const WIRE = join(dirname(FAKE_RUNTIME), '..', '..', 'src', 'wire')

/** A driver running the runtime host, as the platform does. */
export function testDriver (options: LocalProcessDriverOptions = {}): LocalProcessDriver {
  return new LocalProcessDriver(options)
}

/** A driver running the stand-in runtime; under the permission model it may read what that runtime imports. */
export function fakeRuntimeDriver (options: LocalProcessDriverOptions = {}): LocalProcessDriver {
  return new LocalProcessDriver({ entry: FAKE_RUNTIME, runtimeReadPaths: [dirname(FAKE_RUNTIME), WIRE], ...options })
}

/** Folders made for this test file's instances, removed when the file's process exits. */
const folders: string[] = []
process.once('exit', () => {
  for (const dir of folders) rmSync(dir, { recursive: true, force: true })
})

/** A fresh folder for one test's files, readable by the uids instances run as. */
export function folder (): string {
  const dir = mkdtempSync(join(tmpdir(), 'roost-im-'))
  chmodSync(dir, 0o755)
  folders.push(dir)
  return dir
}

/** A folder any instance may create files in (markers that tell instances of a test apart). */
export function sharedFolder (): string {
  const dir = folder()
  chmodSync(dir, 0o1777)
  return dir
}

/** Writes `code` as an ES module bundle and returns its path. */
export function bundle (code: string, dir = folder()): string {
  const file = join(dir, 'bundle.mjs')
  writeFileSync(file, code, { mode: 0o644 })
  return file
}

export function target (code: string, overrides: Partial<VersionTarget> = {}): VersionTarget {
  const namespace = overrides.fn?.namespace ?? 'default'
  const name = overrides.fn?.name ?? 'f'
  return {
    key: versionKey(namespace, name, 1),
    fn: { namespace, name, version: 1 },
    bundlePath: bundle(code.includes('export default') ? code : `${code}\nexport default () => new Response('ok')`),
    env: {},
    timeoutMs: 2000,
    memoryMiB: 128,
    replicas: 1,
    ...overrides
  }
}

export interface Harness {
  manager: InstanceManager
  events: InstanceEvent[]
  logs: InstanceLogLine[]
  failures: string[]
  started: Array<{ info: InstanceInfo, startMs: number, pooled: boolean }>
  poolSizes: number[]
}

// Whatever a test forgot or could not stop (it failed midway) is stopped when its file ends: no process outlives the tests.
const managers = new Set<InstanceManager>()
after(async () => { await Promise.all([...managers].map(async (manager) => await manager.stop())) })

export function harness (options: InstanceManagerOptions = {}, onEvent?: (event: InstanceEvent, manager: InstanceManager) => void, driver = testDriver()): Harness {
  const events: InstanceEvent[] = []
  const logs: InstanceLogLine[] = []
  const failures: string[] = []
  const started: Harness['started'] = []
  const poolSizes: number[] = []
  const manager: InstanceManager = new InstanceManager(driver, {
    onChange: () => {},
    onLogs: (lines) => logs.push(...lines),
    onEvent: (event) => {
      events.push(event)
      onEvent?.(event, manager)
    },
    onStartFailed: (key, reason) => failures.push(`${key}: ${reason}`),
    onStarted: (info, startMs, pooled) => started.push({ info, startMs, pooled }),
    onPoolChange: (size) => poolSizes.push(size)
  }, { drainDelayMs: 10, ...options })
  managers.add(manager)
  return { manager, events, logs, failures, started, poolSizes }
}

export function ready (manager: InstanceManager, key?: string): InstanceInfo[] {
  return manager.list().filter((i) => i.state === 'ready' && (key === undefined || i.versionKey === key))
}

/** True while a process with this pid runs: a zombie (dead, its parent has not reaped it yet) is not. */
export function alive (pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
  } catch {
    return false
  }
}

/** The messages an instance logged, in order. */
export function logged (h: Harness, instanceId?: string): string[] {
  return h.logs.filter((l) => instanceId === undefined || l.instance === instanceId).map((l) => l.message)
}
