import { test } from 'node:test'
import assert from 'node:assert/strict'
import { join } from 'node:path'
import type { InstanceInfo } from '../../src/instances/index.js'
import { until } from '../helpers/wait.js'
import { alive, harness, logged, ok, ready, sharedFolder, target } from './fixtures.js'

test('keeps the replicas ready and replaces one that dies', async (t) => {
  const { manager, events } = harness()
  t.after(() => manager.stop())
  manager.setTargets([target(ok, { replicas: 2 })])
  await until(() => ready(manager).length === 2, 'two ready', 30_000)
  const victim = manager.list()[0]
  process.kill(victim.pid as number, 'SIGKILL')
  await until(() => events.some((e) => e.reason === 'Crashed'), 'the crash event', 30_000)
  await until(() => ready(manager).length === 2 && !manager.list().some((i) => i.id === victim.id), 'a replacement', 30_000)
})

test('with replicas 0 nothing runs; scale to N starts N and counts tell their states', async (t) => {
  const h = harness()
  const { manager, started } = h
  t.after(() => manager.stop())
  const version = target(ok, { replicas: 0 })
  manager.setTargets([version])
  assert.deepEqual(manager.list(), [])
  manager.scale(version.key, 3)
  assert.equal(manager.counts(version.key).starting, 3, 'the three start at once')
  await until(() => manager.counts(version.key).ready === 3, `three ready: ${JSON.stringify(h.events)}`, 30_000)
  assert.deepEqual(manager.counts(version.key), { starting: 0, ready: 3, draining: 0 })
  assert.equal(started.length, 3, 'onStarted once per instance')
  for (const { info, startMs } of started) {
    assert.equal(info.state, 'ready')
    assert.ok(startMs > 0)
  }
  for (const instance of manager.list()) assert.match(instance.socketPath ?? '', /\.sock$/)
})

test('scale down drains the extras: those still starting first, then the newest ready', async (t) => {
  const { manager } = harness()
  t.after(() => manager.stop())
  // The first instance to load takes slot 0 and is ready at once; the others
  // stay starting (their module waits a minute).
  const slots = sharedFolder()
  const code = `
    import { closeSync, openSync } from 'node:fs'
    let slot = 0
    for (;; slot++) { try { closeSync(openSync(${JSON.stringify(slots)} + '/slot-' + slot, 'wx')); break } catch {} }
    if (slot > 0) await new Promise((resolve) => setTimeout(resolve, 60_000))
    export default () => new Response(String(slot))`
  const version = target(code, { replicas: 3 })
  manager.setTargets([version])
  await until(() => manager.counts(version.key).ready === 1 && manager.counts(version.key).starting === 2, 'one ready, two starting', 30_000)
  const [first] = ready(manager)

  manager.scale(version.key, 2)
  assert.deepEqual(manager.counts(version.key), { starting: 1, ready: 1, draining: 1 })
  manager.scale(version.key, 1)
  assert.deepEqual(manager.counts(version.key), { starting: 0, ready: 1, draining: 2 })
  assert.equal(ready(manager)[0].id, first.id, 'the ready instance is kept')
  await until(() => manager.list().length === 1, 'the starting ones gone', 30_000)

  // Among ready instances the newest go first.
  const plain = target(ok, { fn: { namespace: 'default', name: 'g', version: 1 }, replicas: 3 })
  manager.setTargets([version, plain])
  await until(() => ready(manager, plain.key).length === 3, 'three ready', 30_000)
  // list() is in the order the manager started them.
  const [oldest] = manager.list().filter((i) => i.versionKey === plain.key)
  manager.scale(plain.key, 1)
  const kept = manager.list().filter((i) => i.versionKey === plain.key && i.state !== 'draining')
  assert.deepEqual(kept.map((i) => i.id), [oldest.id], 'the first started is kept')
})

test('scale down stops an idle instance before a busy one, the newest among the idle', async (t) => {
  const inFlight = new Map<string, number>()
  const { manager } = harness({ inFlightOf: (id) => inFlight.get(id) ?? 0 })
  t.after(() => manager.stop())
  const version = target(ok, { replicas: 3 })
  manager.setTargets([version])
  await until(() => ready(manager, version.key).length === 3, 'three ready', 30_000)
  // list() is in the order the manager started them: the newest is busy, the two older ones idle.
  const [oldest, middle, newest] = manager.list()
  inFlight.set(newest.id, 4)
  manager.scale(version.key, 2)
  assert.deepEqual(manager.list().filter((i) => i.state === 'draining').map((i) => i.id), [middle.id], 'the newest idle one goes, not the busy newest')
  inFlight.set(oldest.id, 1)
  manager.scale(version.key, 1)
  assert.deepEqual(manager.list().filter((i) => i.state !== 'draining').map((i) => i.id), [newest.id], 'of two busy ones, the one with less in flight goes')
})

test('scale of a version that is not a target is ignored', async (t) => {
  const { manager } = harness()
  t.after(() => manager.stop())
  manager.setTargets([target(ok, { replicas: 0 })])
  manager.scale('default/nope@1', 3)
  assert.deepEqual(manager.list(), [])
  assert.deepEqual(manager.counts('default/nope@1'), { starting: 0, ready: 0, draining: 0 })
})

test('a version that cannot start is reported, and retries back off', async (t) => {
  const { manager, failures, events } = harness()
  t.after(() => manager.stop())
  manager.setTargets([target('throw new Error("nope")')])
  await until(() => failures.length >= 2, 'two failures', 30_000)
  assert.match(failures[0], /nope/)
  await until(() => events.some((e) => e.reason === 'StartFailed' && /retrying in \d+ ms/.test(e.message)), 'a backoff', 30_000)
})

test('demand while starts back off answers the waiting requests at once; otherwise it changes no count', async (t) => {
  const { manager, failures, events } = harness()
  t.after(() => manager.stop())
  const idle = target(ok, { fn: { namespace: 'default', name: 'idle', version: 1 }, replicas: 0 })
  const broken = target('throw new Error("nope")')
  manager.setTargets([idle, broken])

  manager.demand(idle.key)
  assert.deepEqual(manager.list().filter((i) => i.versionKey === idle.key), [], 'demand starts nothing by itself')

  // From the third failure on the next start waits at least 500 ms.
  await until(() => events.some((e) => e.reason === 'StartFailed' && /retrying in ([5-9]\d\d|\d{4,}) ms/.test(e.message)), 'a long backoff', 30_000)
  const before = failures.length
  manager.demand(broken.key)
  assert.equal(failures.length, before + 1, 'answered within the call')
  assert.match(failures[failures.length - 1], /^default\/f@1: .*nope/)
})

test('a version left out of the targets drains and stops', async (t) => {
  const { manager, events } = harness()
  t.after(() => manager.stop())
  const version = target(ok)
  manager.setTargets([version])
  await until(() => ready(manager).length === 1, 'ready', 30_000)
  manager.setTargets([])
  assert.equal(manager.list()[0].state, 'draining')
  await until(() => manager.list().length === 0, 'stopped', 30_000)
  assert.ok(events.some((e) => e.reason === 'Stopped'))
})

test('a suspect that answers its ping is left alone', async (t) => {
  const { manager, events } = harness()
  t.after(() => manager.stop())
  manager.setTargets([target(ok)])
  await until(() => ready(manager).length === 1, 'ready', 30_000)
  const [instance] = manager.list()
  manager.suspect(instance.id)
  await new Promise((resolve) => setTimeout(resolve, 1300))
  assert.equal(manager.list()[0].id, instance.id)
  assert.ok(!events.some((e) => e.reason === 'Unresponsive' || e.reason === 'Unhealthy'))
})

test('an instance whose event loop blocks fails its liveness probe: out of rotation at once, Unhealthy, killed and replaced', async (t) => {
  let atEvent: InstanceInfo[] = []
  const h = harness({ livenessIntervalMs: 50, livenessTimeoutMs: 300 }, (event, m) => {
    if (event.reason === 'Unhealthy') atEvent = m.list()
  })
  const { manager, events } = h
  t.after(() => manager.stop())
  // Only the first instance blocks, a moment after it became ready.
  const marker = join(sharedFolder(), 'blocked')
  const code = `
    import { closeSync, openSync } from 'node:fs'
    let first = true
    try { closeSync(openSync(${JSON.stringify(marker)}, 'wx')) } catch { first = false }
    if (first) setTimeout(() => { for (;;) {} }, 300)
    console.log(first ? 'blocking' : 'fine')`
  manager.setTargets([target(code)])
  await until(() => ready(manager).length === 1, 'ready', 30_000)
  const [stuck] = manager.list()

  await until(() => events.some((e) => e.reason === 'Unhealthy'), 'the Unhealthy event', 30_000)
  const unhealthy = events.find((e) => e.reason === 'Unhealthy')
  assert.equal(unhealthy?.type, 'Warning')
  assert.match(unhealthy?.message ?? '', new RegExp(`${stuck.id} did not answer a liveness ping`))
  assert.equal(atEvent.find((i) => i.id === stuck.id)?.state, 'draining', 'out of rotation when the event is told')

  await until(() => !alive(stuck.pid as number), 'the stuck process killed', 30_000)
  await until(() => ready(manager).length === 1 && ready(manager)[0].id !== stuck.id, 'a replacement', 30_000)
  await until(() => logged(h, ready(manager)[0].id).includes('fine'), 'the replacement runs the function', 30_000)
  assert.ok(!manager.list().some((i) => i.id === stuck.id))
  assert.ok(!events.some((e) => e.reason === 'Crashed'), 'a kill for being unhealthy is not a crash')
})

test('a handler that blocks its event loop for less than the liveness timeout is left alone', async (t) => {
  const h = harness({ livenessIntervalMs: 50, pingTimeoutMs: 100, livenessTimeoutMs: 3000 })
  const { manager, events } = h
  t.after(() => manager.stop())
  // CPU work of 600 ms, twice: several periodic pings go unanswered meanwhile, none for 3 s.
  const code = `
    const work = () => { const end = Date.now() + 600; while (Date.now() < end) {} console.log('computed') }
    setTimeout(work, 100)
    setTimeout(work, 800)`
  manager.setTargets([target(code)])
  await until(() => ready(manager).length === 1, 'ready', 30_000)
  const [busy] = ready(manager)
  await until(() => logged(h, busy.id).filter((m) => m === 'computed').length === 2, 'the work done twice', 30_000)
  await new Promise((resolve) => setTimeout(resolve, 300))
  assert.deepEqual(ready(manager).map((i) => i.id), [busy.id])
  assert.ok(!events.some((e) => e.reason === 'Unhealthy' || e.reason === 'Unresponsive'), JSON.stringify(events))
})

test('stop ends every instance', async () => {
  const { manager } = harness({ warmPool: { size: 0 } })
  manager.setTargets([target(ok, { replicas: 2 })])
  await until(() => ready(manager).length === 2, 'two ready', 30_000)
  const pids = manager.list().map((i) => i.pid as number)
  await manager.stop()
  for (const pid of pids) assert.equal(alive(pid), false, `process ${pid} ended`)
})
