import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InstanceManager, LocalProcessDriver, versionKey, type InstanceEvent, type InstanceInfo, type InstanceManagerOptions, type VersionTarget } from '../../src/instances/index.js'
// Whatever runtime process a test leaves running dies with the test process.
import '../helpers/leave-nothing.js'

export const ok = 'export default () => new Response("ok")'

/** A fresh folder for one test's files. */
export function folder (): string {
  return mkdtempSync(join(tmpdir(), 'roost-im-'))
}

/** Writes `code` as an ES module bundle and returns its path. */
export function bundle (code: string, dir = folder()): string {
  const file = join(dir, 'bundle.mjs')
  writeFileSync(file, code)
  return file
}

export function target (code: string, overrides: Partial<VersionTarget> = {}): VersionTarget {
  const name = overrides.fn?.name ?? 'f'
  return {
    key: versionKey('default', name, 1),
    fn: { namespace: 'default', name, version: 1 },
    bundlePath: bundle(code),
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
  failures: string[]
  started: Array<{ info: InstanceInfo, startMs: number, pooled: boolean }>
  poolSizes: number[]
}

export function harness (options: InstanceManagerOptions = {}, onEvent?: (event: InstanceEvent, manager: InstanceManager) => void): Harness {
  const events: InstanceEvent[] = []
  const failures: string[] = []
  const started: Harness['started'] = []
  const poolSizes: number[] = []
  const manager: InstanceManager = new InstanceManager(new LocalProcessDriver(), {
    onChange: () => {},
    onLogs: () => {},
    onEvent: (event) => {
      events.push(event)
      onEvent?.(event, manager)
    },
    onStartFailed: (key, reason) => failures.push(`${key}: ${reason}`),
    onStarted: (info, startMs, pooled) => started.push({ info, startMs, pooled }),
    onPoolChange: (size) => poolSizes.push(size)
  }, { drainDelayMs: 10, ...options })
  return { manager, events, failures, started, poolSizes }
}

export function ready (manager: InstanceManager, key?: string): InstanceInfo[] {
  return manager.list().filter((i) => i.state === 'ready' && (key === undefined || i.versionKey === key))
}

/** True while a process with this pid exists (zombies included). */
export function alive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

export async function text (instance: InstanceInfo, path = '/'): Promise<string> {
  const response = await fetch(`http://${instance.host}:${instance.port}${path}`)
  return await response.text()
}
