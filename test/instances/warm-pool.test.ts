import { test } from 'node:test'
import assert from 'node:assert/strict'
import { WarmPool } from '../../src/instances/index.js'
import { until } from '../helpers/wait.js'
import { alive, harness, logged, ok, ready, target, testDriver } from './fixtures.js'

const idlePids = (pids: Array<number | null>): number[] => pids.filter((pid): pid is number => pid !== null)

test('the pool fills to its size; a start takes a warm process, which becomes the instance, and the pool refills', async (t) => {
  const { manager, started, poolSizes } = harness()
  t.after(() => manager.stop())
  manager.start()
  await until(() => manager.poolSize() === 2, 'two warm processes', 30_000)
  assert.deepEqual(manager.list(), [], 'warm processes are not instances')
  assert.ok(poolSizes.includes(2), 'the pool size is reported')
  const warm = idlePids(manager.poolProcesses().map((p) => p.pid))

  const version = target(ok, { replicas: 0 })
  manager.setTargets([version])
  manager.scale(version.key, 1)
  assert.equal(manager.poolSize(), 1, 'taken at once')
  await until(() => ready(manager).length === 1, 'ready', 30_000)
  const [instance] = manager.list()
  assert.equal(instance.pooled, true)
  assert.ok(warm.includes(instance.pid as number), 'the instance runs in a process of the pool')
  assert.equal(started.length, 1)
  assert.equal(started[0].pooled, true)
  assert.equal(started[0].info.id, instance.id)
  assert.match(instance.socketPath ?? '', /\.sock$/, 'it kept the socket it listened on while warm')

  await until(() => manager.poolSize() === 2, 'the pool refilled', 30_000)
  assert.ok(!manager.poolProcesses().some((p) => p.pid === instance.pid), 'the instance left the pool')
})

test('two functions started from the pool each see their own env and no other', async (t) => {
  const h = harness()
  const { manager } = h
  t.after(() => manager.stop())
  const code = 'console.log(JSON.stringify({ f: process.env.ONLY_F ?? null, g: process.env.ONLY_G ?? null, fn: process.env.ROOST_FUNCTION, instance: process.env.ROOST_INSTANCE }))'
  const f = target(code, { replicas: 0, env: { ONLY_F: 'f' } })
  const g = target(code, { replicas: 0, env: { ONLY_G: 'g' }, fn: { namespace: 'default', name: 'g', version: 1 } })
  g.key = 'default/g@1'
  manager.setTargets([f, g])
  await until(() => manager.poolSize() === 2, 'two warm processes', 30_000)
  manager.scale(f.key, 1)
  manager.scale(g.key, 1)
  await until(() => ready(manager).length === 2, 'both ready', 30_000)
  const [one, two] = manager.list()
  assert.equal(one.pooled && two.pooled, true, 'both came from the pool')
  await until(() => manager.list().every((i) => logged(h, i.id).length > 0), 'what each logged', 30_000)
  const seen = new Map(manager.list().map((i) => [i.versionKey, { id: i.id, body: JSON.parse(logged(h, i.id)[0]) }] as const))
  assert.deepEqual(seen.get(f.key)?.body, { f: 'f', g: null, fn: 'f', instance: seen.get(f.key)?.id })
  assert.deepEqual(seen.get(g.key)?.body, { f: null, g: 'g', fn: 'g', instance: seen.get(g.key)?.id })
})

test('the pool keeps processes of each memory size its targets ask for; an instance gets its heap limit', async (t) => {
  const h = harness()
  const { manager } = h
  t.after(() => manager.stop())
  manager.start()
  await until(() => manager.poolSize() === 2, 'the default pool', 30_000)
  assert.deepEqual(manager.poolProcesses().map((p) => p.memoryMiB), [128, 128])

  const big = target('import v8 from "node:v8"; console.log(JSON.stringify({ argv: process.execArgv, heap: v8.getHeapStatistics().heap_size_limit / 1048576 }))', { replicas: 0, memoryMiB: 256 })
  manager.setTargets([big])
  await until(() => manager.poolSize() === 2 && manager.poolProcesses().every((p) => p.memoryMiB === 256), 'a pool of 256 MiB processes', 30_000)
  manager.scale(big.key, 1)
  await until(() => ready(manager).length === 1, 'ready', 30_000)
  const [instance] = manager.list()
  assert.equal(instance.pooled, true)
  await until(() => logged(h, instance.id).length > 0, 'what it logged', 30_000)
  const { argv, heap } = JSON.parse(logged(h, instance.id)[0]) as { argv: string[], heap: number }
  // 256 MiB for the whole process; the heap gets 3/4 of it less 16 MiB (memory-budget.ts).
  assert.ok(argv.includes('--max-old-space-size=176'), argv.join(' '))
  assert.ok(heap >= 176 && heap < 256, `heap limit ${heap} MiB`)
})

test('with a pool of size 0 every instance is a plain spawn', async (t) => {
  const { manager, started } = harness({ warmPool: { size: 0 } })
  t.after(() => manager.stop())
  manager.setTargets([target(ok)])
  await until(() => ready(manager).length === 1, 'ready', 30_000)
  assert.equal(manager.list()[0].pooled, false)
  assert.equal(started[0].pooled, false)
  assert.equal(manager.poolSize(), 0)
  assert.deepEqual(manager.poolProcesses(), [])
})

test('a warm process killed while idle is replaced', async (t) => {
  const { manager } = harness()
  t.after(() => manager.stop())
  manager.start()
  await until(() => manager.poolSize() === 2, 'two warm processes', 30_000)
  const [victim] = idlePids(manager.poolProcesses().map((p) => p.pid))
  process.kill(victim, 'SIGKILL')
  await until(() => manager.poolSize() === 2 && !manager.poolProcesses().some((p) => p.pid === victim), 'a replacement', 30_000)
  assert.deepEqual(manager.list(), [])
})

test('a memory size no longer wanted loses its warm processes', async (t) => {
  const driver = testDriver()
  const pool = new WarmPool(driver, { size: 1 })
  t.after(async () => {
    await pool.stop()
    await driver.close()
  })
  pool.setMemoryClasses([64, 96])
  pool.start()
  await until(() => pool.size() === 2, 'one per size', 30_000)
  const [small] = pool.list().filter((p) => p.memoryMiB === 64)
  pool.setMemoryClasses([96])
  assert.equal(pool.size(), 1)
  await until(() => !alive(small.pid as number) && pool.list().length === 1, 'the 64 MiB process ended', 30_000)
  assert.deepEqual(pool.list().map((p) => p.memoryMiB), [96])
  assert.equal(pool.take(64, null as never), null, 'nothing to take for a size not kept')
})

test('stop leaves no process alive, instances and warm processes alike', async () => {
  const { manager } = harness()
  manager.setTargets([target(ok, { replicas: 2 })])
  await until(() => ready(manager).length === 2 && manager.poolSize() === 2, 'two instances and two warm processes', 30_000)
  const pids = [...manager.list().map((i) => i.pid), ...manager.poolProcesses().map((p) => p.pid)]
  assert.equal(pids.length, 4)
  await manager.stop()
  for (const pid of idlePids(pids)) assert.equal(alive(pid), false, `process ${pid} ended`)
})
