import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { InstanceManager, LocalProcessDriver, versionKey, type InstanceEvent, type VersionTarget } from '../../src/instances/index.js'
import { until } from '../helpers/wait.js'

function target (code: string, overrides: Partial<VersionTarget> = {}): VersionTarget {
  const dir = mkdtempSync(join(tmpdir(), 'roost-im-'))
  writeFileSync(join(dir, 'bundle.mjs'), code)
  return {
    key: versionKey('default', 'f', 1),
    fn: { namespace: 'default', name: 'f', version: 1 },
    bundlePath: join(dir, 'bundle.mjs'),
    env: {},
    timeoutMs: 2000,
    memoryMiB: 64,
    min: 1,
    active: true,
    ...overrides
  }
}

function harness (): { manager: InstanceManager, events: InstanceEvent[], failures: string[] } {
  const events: InstanceEvent[] = []
  const failures: string[] = []
  const manager = new InstanceManager(new LocalProcessDriver(), {
    onChange: () => {},
    onLogs: () => {},
    onEvent: (event) => events.push(event),
    onStartFailed: (key, reason) => failures.push(`${key}: ${reason}`)
  }, { drainDelayMs: 10 })
  return { manager, events, failures }
}

const ok = 'export default () => new Response("ok")'

test('keeps scale.min instances ready and replaces one that dies', async (t) => {
  const { manager, events } = harness()
  t.after(() => manager.stop())
  manager.setTargets([target(ok, { min: 2 })])
  await until(() => manager.list().filter((i) => i.state === 'ready').length === 2, 'two ready')
  const victim = manager.list()[0]
  process.kill(victim.pid as number, 'SIGKILL')
  await until(() => events.some((e) => e.reason === 'Crashed'), 'the crash event')
  await until(() => manager.list().filter((i) => i.state === 'ready').length === 2 && !manager.list().some((i) => i.id === victim.id), 'a replacement')
})

test('with min 0 nothing runs until demand, then one instance starts', async (t) => {
  const { manager } = harness()
  t.after(() => manager.stop())
  const zero = target(ok, { min: 0 })
  manager.setTargets([zero])
  assert.equal(manager.list().length, 0)
  manager.demand(zero.key)
  await until(() => manager.list().some((i) => i.state === 'ready'), 'ready after demand')
  assert.equal(manager.list().length, 1)
})

test('a version that cannot start is reported, and retries back off', async (t) => {
  const { manager, failures, events } = harness()
  t.after(() => manager.stop())
  manager.setTargets([target('throw new Error("nope")')])
  await until(() => failures.length >= 2, 'two failures')
  assert.match(failures[0], /nope/)
  await until(() => events.some((e) => e.reason === 'StartFailed' && /retrying in \d+ ms/.test(e.message)), 'a backoff')
})

test('a version that loses its traffic drains and stops', async (t) => {
  const { manager, events } = harness()
  t.after(() => manager.stop())
  const version = target(ok)
  manager.setTargets([version])
  await until(() => manager.list().some((i) => i.state === 'ready'), 'ready')
  manager.setTargets([{ ...version, active: false }])
  assert.equal(manager.list()[0].state, 'draining')
  await until(() => manager.list().length === 0, 'stopped')
  assert.ok(events.some((e) => e.reason === 'Stopped'))
})

test('a suspect that answers its ping is left alone', async (t) => {
  const { manager, events } = harness()
  t.after(() => manager.stop())
  manager.setTargets([target(ok)])
  await until(() => manager.list().some((i) => i.state === 'ready'), 'ready')
  const [instance] = manager.list()
  manager.suspect(instance.id)
  await new Promise((resolve) => setTimeout(resolve, 1300))
  assert.equal(manager.list()[0].id, instance.id)
  assert.ok(!events.some((e) => e.reason === 'Unresponsive'))
})

test('stop ends every instance', async () => {
  const { manager } = harness()
  manager.setTargets([target(ok, { min: 2 })])
  await until(() => manager.list().filter((i) => i.state === 'ready').length === 2, 'two ready')
  const pids = manager.list().map((i) => i.pid as number)
  await manager.stop()
  for (const pid of pids) assert.throws(() => process.kill(pid, 0))
})
