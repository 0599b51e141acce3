// The behaviour every instance Driver must have, run against each one (local
// processes now, Kubernetes later): a new driver passes these or is not done.
import { test, type TestContext } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, statSync } from 'node:fs'
import { dirname } from 'node:path'
import type { Driver, InstanceEvents, InstanceExit, RunningInstance } from '../../src/instances/index.js'
import type { ControlLogLine } from '../../src/instances/index.js'
import { until } from '../helpers/wait.js'
// Whatever runtime process a test leaves running dies with the test process.
import '../helpers/leave-nothing.js'
import { bundle } from './fixtures.js'

interface Observed {
  secret: string | null
  ready: boolean
  loadFailed: string | null
  logs: ControlLogLine[]
  pongs: Array<{ id: number, elu: number, cpuUs: number }>
  drained: boolean
  violations: string[]
  exit: InstanceExit | null
}

export function launch (driver: Driver, memoryMiB = 128, warmUp = false): { instance: RunningInstance, seen: Observed } {
  const seen: Observed = { secret: null, ready: false, loadFailed: null, logs: [], pongs: [], drained: false, violations: [], exit: null }
  const events: InstanceEvents = {
    onListening: (secret) => { seen.secret = secret },
    onReady: () => { seen.ready = true },
    onLoadFailed: (reason) => { seen.loadFailed = reason },
    onLogs: (lines) => { seen.logs.push(...lines) },
    onPong: (id, report) => { seen.pongs.push({ id, ...report }) },
    onDrained: () => { seen.drained = true },
    onProtocolViolation: (what) => { seen.violations.push(what) },
    onExit: (exit) => { seen.exit = exit }
  }
  return { instance: driver.launch({ name: 'contract-1', memoryMiB, warmUp }, events), seen }
}

export async function loaded (driver: Driver, code: string, memoryMiB = 128, identity?: { uid: number, gid: number }): Promise<{ instance: RunningInstance, seen: Observed }> {
  const launched = launch(driver, memoryMiB)
  // Where the driver switches uids, the process runs as one no other test uses.
  identity ??= driver.isolation().switchesUids ? { uid: 200_999, gid: 200_999 } : undefined
  await until(() => launched.seen.secret !== null || launched.seen.exit !== null, 'listening')
  launched.instance.load({ t: 'load', instanceId: 'contract-1', bundlePath: bundle(withHandler(code)), fn: { namespace: 'default', name: 'c', version: 1 }, env: { GREETING: 'hey' }, timeoutMs: 5000, ...identity }, memoryMiB)
  await until(() => launched.seen.ready || launched.seen.loadFailed !== null || launched.seen.exit !== null, 'ready')
  return launched
}

/** A bundle the real runtime accepts: one without a handler gets one that answers "ok". */
export function withHandler (code: string): string {
  return code.includes('export default') ? code : `${code}\nexport default () => new Response('ok')`
}

export async function ended (instance: RunningInstance, seen: Observed): Promise<void> {
  instance.kill()
  await until(() => seen.exit !== null, 'exit')
}

/** A driver for one test: whatever it launched is killed and the driver closed after the test, passed or not. */
export function useDriver (t: TestContext, makeDriver: () => Driver): Driver {
  const driver = makeDriver()
  const launched: Array<{ instance: RunningInstance, exited: () => boolean }> = []
  const launchOne = driver.launch.bind(driver)
  driver.launch = (options, events) => {
    let exited = false
    const instance = launchOne(options, { ...events, onExit: (exit) => { exited = true; events.onExit(exit) } })
    launched.push({ instance, exited: () => exited })
    return instance
  }
  t.after(async () => {
    for (const { instance } of launched) instance.kill()
    await until(() => launched.every((l) => l.exited()), 'every process of the test ended')
    await driver.close?.()
  })
  return driver
}

export function driverContract (name: string, makeDriver: () => Driver): void {
  test(`${name}: a process listens on a socket only the platform can open, with a secret, loads a bundle with its env, and reports its logs`, async (t) => {
    const driver = useDriver(t, makeDriver)
    const { instance, seen } = await loaded(driver, 'console.log("greeting", process.env.GREETING, process.env.ROOST_FUNCTION)')
    try {
      assert.match(seen.secret ?? '', /^[0-9a-f]{64}$/)
      assert.ok(existsSync(instance.socketPath), instance.socketPath)
      assert.equal(statSync(dirname(instance.socketPath)).mode & 0o777, 0o700)
      assert.equal(seen.ready, true)
      await until(() => seen.logs.some((l) => l.message === 'greeting hey c'), 'the log line')
    } finally {
      await ended(instance, seen)
    }
    assert.equal(existsSync(instance.socketPath), false, 'the socket is removed with the process')
  })

  test(`${name}: ping is answered with the event loop's utilisation and the CPU time`, async (t) => {
    const driver = useDriver(t, makeDriver)
    const { instance, seen } = await loaded(driver, 'export default () => new Response("ok")')
    instance.ping(7)
    await until(() => seen.pongs.some((p) => p.id === 7), 'pong')
    const pong = seen.pongs.find((p) => p.id === 7)
    assert.ok(pong !== undefined && pong.elu >= 0 && pong.elu <= 1 && pong.cpuUs > 0, JSON.stringify(pong))
    await ended(instance, seen)
  })

  test(`${name}: a bundle that throws at load is reported and the process exits`, async (t) => {
    const driver = useDriver(t, makeDriver)
    const { seen } = await loaded(driver, 'throw new Error("broken at load")')
    assert.match(seen.loadFailed ?? '', /broken at load/)
    await until(() => seen.exit !== null, 'exit')
  })

  test(`${name}: drain is answered with drained, then the process exits cleanly`, async (t) => {
    const driver = useDriver(t, makeDriver)
    const { instance, seen } = await loaded(driver, 'export default () => new Response("ok")')
    instance.drain()
    await until(() => seen.exit !== null, 'exit')
    assert.equal(seen.drained, true)
    assert.equal(seen.exit?.code, 0)
  })

  test(`${name}: a crash is reported with its cause and the output before it`, async (t) => {
    const driver = useDriver(t, makeDriver)
    const { seen } = await loaded(driver, 'setTimeout(() => { throw new Error("kaboom later") }, 50)')
    await until(() => seen.exit !== null, 'exit')
    assert.equal(seen.exit?.reason, 'uncaught exception')
    assert.ok(seen.logs.some((l) => l.stream === 'stderr' && l.message.includes('kaboom later')), 'the stack reaches the logs')
  })

  test(`${name}: a growing heap ends with V8's out of memory, inside the process's memory`, async (t) => {
    const driver = useDriver(t, makeDriver)
    const { seen } = await loaded(driver, 'const keep = []; setInterval(() => { for (let i = 0; i < 200; i++) keep.push(new Array(1e4).fill(Math.random())) }, 1)', 64)
    await until(() => seen.exit !== null, 'exit', 30_000)
    assert.equal(seen.exit?.outOfMemory, true)
    assert.equal(seen.exit?.reason, 'out of memory (V8 heap limit reached)')
  })

  test(`${name}: kill ends a stuck process`, async (t) => {
    const driver = useDriver(t, makeDriver)
    const { instance, seen } = await loaded(driver, 'setTimeout(() => { for (;;) {} }, 10)')
    await new Promise((resolve) => setTimeout(resolve, 100))
    instance.ping(1)
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.deepEqual(seen.pongs, [], 'a stuck process cannot answer a ping')
    await ended(instance, seen)
    assert.equal(seen.exit?.signal, 'SIGKILL')
  })
}
