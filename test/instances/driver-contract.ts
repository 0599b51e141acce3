// The behaviour every instance Driver must have, run against each one (local
// processes now, Kubernetes later): a new driver passes these or is not done.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Driver, InstanceEvents, InstanceExit, RunningInstance } from '../../src/instances/index.js'
import type { RuntimeLogLine } from '../../src/runtime/index.js'
import { until } from '../helpers/wait.js'
// Whatever runtime process a test leaves running dies with the test process.
import '../helpers/leave-nothing.js'

interface Observed {
  port: number
  ready: boolean
  loadFailed: string | null
  logs: RuntimeLogLine[]
  pongs: number[]
  drained: boolean
  exit: InstanceExit | null
}

function bundle (code: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'roost-driver-'))
  const file = join(dir, 'bundle.mjs')
  writeFileSync(file, code)
  return file
}

function launch (driver: Driver, memoryMiB = 64, warmUp = false): { instance: RunningInstance, seen: Observed } {
  const seen: Observed = { port: 0, ready: false, loadFailed: null, logs: [], pongs: [], drained: false, exit: null }
  const events: InstanceEvents = {
    onListening: ({ port }) => { seen.port = port },
    onReady: () => { seen.ready = true },
    onLoadFailed: (reason) => { seen.loadFailed = reason },
    onLogs: (lines) => { seen.logs.push(...lines) },
    onPong: (id) => { seen.pongs.push(id) },
    onDrained: () => { seen.drained = true },
    onExit: (exit) => { seen.exit = exit }
  }
  return { instance: driver.launch({ name: 'contract-1', memoryMiB, warmUp }, events), seen }
}

async function loaded (driver: Driver, code: string, memoryMiB = 64, warmUp = false): Promise<{ instance: RunningInstance, seen: Observed }> {
  const launched = launch(driver, memoryMiB, warmUp)
  await until(() => launched.seen.port > 0, 'listening')
  launched.instance.load({ t: 'load', instanceId: 'contract-1', bundlePath: bundle(code), fn: { namespace: 'default', name: 'c', version: 1 }, env: { GREETING: 'hey' }, timeoutMs: 5000 })
  await until(() => launched.seen.ready || launched.seen.loadFailed !== null, 'ready')
  return launched
}

export function driverContract (name: string, makeDriver: () => Driver): void {
  test(`${name}: an instance listens, loads a bundle, serves it with its env, and reports its logs`, async () => {
    const { instance, seen } = await loaded(makeDriver(), 'export default (req, ctx) => { console.log("served", ctx.requestId); return new Response(process.env.GREETING + " " + ctx.function.name) }')
    try {
      const response = await fetch(`http://127.0.0.1:${seen.port}/`, { headers: { 'x-request-id': 'r-1' } })
      assert.equal(await response.text(), 'hey c')
      await until(() => seen.logs.some((l) => l.message === 'served r-1' && l.requestId === 'r-1'), 'the log line')
    } finally {
      instance.kill()
      await until(() => seen.exit !== null, 'exit')
    }
  })

  test(`${name}: a process launched to warm up serves its first request like any other, and its function sees only its own env`, async () => {
    const { instance, seen } = await loaded(makeDriver(), 'export default async (req) => new Response(JSON.stringify({ body: await req.text(), env: Object.keys(process.env).filter((k) => k.startsWith("ROOST_")).sort(), greeting: process.env.GREETING }))', 64, true)
    try {
      const response = await fetch(`http://127.0.0.1:${seen.port}/`, { method: 'POST', body: 'hello' })
      assert.deepEqual(await response.json(), { body: 'hello', env: ['ROOST_FUNCTION', 'ROOST_INSTANCE', 'ROOST_NAMESPACE', 'ROOST_VERSION'], greeting: 'hey' })
      assert.deepEqual(seen.logs, [], 'the warm-up leaves nothing in the logs')
    } finally {
      instance.kill()
      await until(() => seen.exit !== null, 'exit')
    }
  })

  test(`${name}: the V8 heap limit is set at launch`, async () => {
    const { instance, seen } = await loaded(makeDriver(), 'import v8 from "node:v8"; export default () => new Response(String(v8.getHeapStatistics().heap_size_limit / 1048576))', 96)
    try {
      const response = await fetch(`http://127.0.0.1:${seen.port}/`)
      // The limit is the old space asked for plus the young generation.
      const mib = Number(await response.text())
      assert.ok(mib >= 96 && mib < 96 + 64, `heap limit ${mib} MiB for 96 MiB asked`)
    } finally {
      instance.kill()
      await until(() => seen.exit !== null, 'exit')
    }
  })

  test(`${name}: a bundle that throws at load is reported and the instance exits`, async () => {
    const { seen } = await loaded(makeDriver(), 'throw new Error("broken at load")')
    assert.match(seen.loadFailed ?? '', /broken at load/)
    await until(() => seen.exit !== null, 'exit')
  })

  test(`${name}: a default export that is not a handler is a load failure that says what is expected`, async () => {
    const { seen } = await loaded(makeDriver(), 'export default 42')
    assert.match(seen.loadFailed ?? '', /default export must be a function/)
  })

  test(`${name}: ping is answered while the event loop is free`, async () => {
    const { instance, seen } = await loaded(makeDriver(), 'export default () => new Response("ok")')
    instance.ping(7)
    await until(() => seen.pongs.includes(7), 'pong')
    instance.kill()
    await until(() => seen.exit !== null, 'exit')
  })

  test(`${name}: drain lets the request in flight finish, then the instance exits cleanly`, async () => {
    const { instance, seen } = await loaded(makeDriver(), 'export default async () => { await new Promise(r => setTimeout(r, 200)); return new Response("finished") }')
    const inflight = fetch(`http://127.0.0.1:${seen.port}/`)
    await new Promise((resolve) => setTimeout(resolve, 50))
    instance.drain()
    assert.equal(await (await inflight).text(), 'finished')
    await until(() => seen.exit !== null, 'exit')
    assert.equal(seen.exit?.code, 0)
  })

  test(`${name}: a crash is reported with its cause and the output before it`, async () => {
    const { seen } = await loaded(makeDriver(), 'export default () => { setTimeout(() => { throw new Error("kaboom later") }); return new Response("bye") }')
    await fetch(`http://127.0.0.1:${seen.port}/`)
    await until(() => seen.exit !== null, 'exit')
    assert.equal(seen.exit?.reason, 'uncaught exception')
    assert.ok(seen.logs.some((l) => l.message.includes('kaboom later')), 'the stack reaches the logs')
  })

  test(`${name}: running out of heap is reported as out of memory`, async () => {
    const { seen } = await loaded(makeDriver(), 'const keep = []; export default () => { for (;;) keep.push(new Array(1e5).fill(Math.random())) }', 32)
    fetch(`http://127.0.0.1:${seen.port}/`).catch(() => {})
    await until(() => seen.exit !== null, 'exit', 30_000)
    assert.equal(seen.exit?.outOfMemory, true)
  })

  test(`${name}: kill ends a stuck instance`, async () => {
    const { instance, seen } = await loaded(makeDriver(), 'export default () => { for (;;) {} }')
    fetch(`http://127.0.0.1:${seen.port}/`).catch(() => {})
    await new Promise((resolve) => setTimeout(resolve, 50))
    instance.ping(1)
    await new Promise((resolve) => setTimeout(resolve, 200))
    assert.deepEqual(seen.pongs, [], 'a stuck instance cannot answer a ping')
    instance.kill()
    await until(() => seen.exit !== null, 'exit')
    assert.equal(seen.exit?.signal, 'SIGKILL')
  })
}
