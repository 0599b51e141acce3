// Functions that try to harm the platform, other tenants or the machine, run
// as real processes under the real driver (uids, cgroups, sockets) with the
// stand-in runtime of test/instances: each must fail to do harm, and end at
// most itself.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { BundleFiles } from '../../src/controllers/index.js'
import type { InstanceInfo } from '../../src/instances/index.js'
import { NamespaceIdentities } from '../../src/isolation/index.js'
import type { BlobStore } from '../../src/store/index.js'
import { until } from '../helpers/wait.js'
import { alive, harness, logged, ok, ready, target, testDriver, type Harness } from '../instances/fixtures.js'

const asRoot = process.getuid?.() === 0

function only (h: Harness, key: string): InstanceInfo {
  const [instance] = ready(h.manager, key)
  assert.ok(instance !== undefined, `an instance of ${key} is ready`)
  return instance
}

async function report<T> (h: Harness, instanceId: string, what: string): Promise<T> {
  await until(() => logged(h, instanceId).some((m) => m.startsWith('{')), what, 20_000)
  return JSON.parse(logged(h, instanceId).find((m) => m.startsWith('{')) as string) as T
}

test('an instance holding 1.5 GB off-heap under memory: 128Mi is killed by the kernel and reported as out of memory', async (t) => {
  const h = harness({ warmPool: { size: 0 } })
  t.after(() => h.manager.stop())
  const hog = target(`
    const keep = []
    setTimeout(() => { for (let i = 0; i < 15; i++) keep.push(Buffer.alloc(100 * 1024 * 1024, 1)); console.log('survived') }, 50)`, { memoryMiB: 128 })
  h.manager.setTargets([hog])
  await until(() => h.events.some((e) => e.reason === 'OutOfMemory'), 'the OutOfMemory event', 20_000)
  const event = h.events.find((e) => e.reason === 'OutOfMemory')
  assert.match(event?.message ?? '', /out of memory \(the process used its limit of 128 MiB and the kernel killed it\)/)
  assert.ok(!logged(h).includes('survived'))
})

test('a fork bomb stops at the cap on processes, and every process it made dies with the instance', { skip: !asRoot && 'needs root for cgroups' }, async (t) => {
  const h = harness({ warmPool: { size: 0 } })
  t.after(() => h.manager.stop())
  const bomb = target(`
    import { spawn } from 'node:child_process'
    const pids = []
    let refused = null
    for (let i = 0; i < 300; i++) {
      const child = spawn('sleep', ['1000'], { stdio: 'ignore' })
      child.on('error', (err) => { refused ??= err.code })
      if (child.pid !== undefined) pids.push(child.pid)
    }
    setTimeout(() => console.log(JSON.stringify({ pids, refused })), 300)`)
  h.manager.setTargets([bomb])
  await until(() => ready(h.manager).length === 1, 'ready')
  const instance = only(h, bomb.key)
  const { pids, refused } = await report<{ pids: number[], refused: string | null }>(h, instance.id, 'the bomb\'s report')
  assert.equal(refused, 'EAGAIN', 'the kernel refused more processes')
  assert.ok(pids.length > 0 && pids.length < 64, `${pids.length} processes started`)
  assert.ok(pids.every(alive))
  h.manager.setTargets([])
  await until(() => h.manager.list().length === 0, 'the instance gone')
  assert.deepEqual(pids.filter(alive), [], 'no process of the bomb is left')
})

const ESCAPEE = `
  import { spawn } from 'node:child_process'
  // A session of its own, away from the instance's process group, not waited for.
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { detached: true, stdio: 'ignore' })
  child.unref()
  setTimeout(() => console.log(JSON.stringify({ pid: child.pid })), 200)`

test('a process the function started in a session of its own dies when the instance is killed', async (t) => {
  const h = harness({ warmPool: { size: 0 }, livenessIntervalMs: 50, livenessTimeoutMs: 300 })
  t.after(() => h.manager.stop())
  const escapee = target(`${ESCAPEE}
    setTimeout(() => { for (;;) {} }, 1500)`)
  h.manager.setTargets([escapee])
  await until(() => ready(h.manager).length === 1, 'ready')
  const instance = only(h, escapee.key)
  const { pid } = await report<{ pid: number }>(h, instance.id, 'the child\'s pid')
  assert.ok(alive(pid))
  // Its event loop blocks: the liveness probe kills it.
  await until(() => h.events.some((e) => e.reason === 'Unhealthy'), 'the liveness kill', 20_000)
  await until(() => !h.manager.list().some((i) => i.id === instance.id), 'the instance gone')
  assert.equal(alive(pid), false, `process ${pid} ended with its instance`)
})

test('a process the function started in a session of its own dies when the manager stops', async () => {
  const h = harness({ warmPool: { size: 1 } })
  const escapee = target(ESCAPEE)
  h.manager.setTargets([escapee])
  await until(() => ready(h.manager).length === 1, 'ready')
  const instance = only(h, escapee.key)
  const { pid } = await report<{ pid: number }>(h, instance.id, 'the child\'s pid')
  const pids = [pid, instance.pid as number, ...h.manager.poolProcesses().map((p) => p.pid as number)]
  await h.manager.stop()
  assert.deepEqual(pids.filter(alive), [], 'nothing is left running')
})

test('a module that spins at load is killed by the start timeout, with a StartFailed event that says so', async (t) => {
  const h = harness({ warmPool: { size: 0 }, startTimeoutMs: 3000 })
  t.after(() => h.manager.stop())
  h.manager.setTargets([target('for (;;) {}')])
  await until(() => h.events.some((e) => e.reason === 'StartFailed'), 'StartFailed', 20_000)
  const event = h.events.find((e) => e.reason === 'StartFailed')
  assert.match(event?.message ?? '', /the module did not finish loading within 3 s/)
  await until(() => h.manager.list().every((i) => i.pid === null || !alive(i.pid) || i.state === 'starting'), 'the spinning process killed')
})

function victimAndAttacker (code: string): { victim: ReturnType<typeof target>, attacker: ReturnType<typeof target> } {
  return {
    victim: target(ok, { fn: { namespace: 'victims', name: 'victim', version: 1 } }),
    attacker: target(code, { fn: { namespace: 'attackers', name: 'attacker', version: 1 } })
  }
}

async function victimStillAnswers (h: Harness, key: string): Promise<void> {
  await until(() => ready(h.manager, key).length === 1, 'the victim ready', 20_000)
  const [victim] = ready(h.manager, key)
  assert.deepEqual(h.events.filter((e) => e.namespace === 'victims').map((e) => e.reason), ['Started'], 'the victim started once and nothing happened to it')
  // The liveness probe of a healthy instance: it answers, so it is left alone and its pong reported.
  h.manager.suspect(victim.id)
  await until(() => h.manager.list().find((i) => i.id === victim.id)?.elu !== null, 'the victim\'s pong')
}

const FRAME = (payload: string): string => `(() => { const p = Buffer.from(${JSON.stringify(payload)}); const h = Buffer.alloc(9); h.writeUInt32BE(p.length + 5, 0); h[4] = 32; return Buffer.concat([h, p]) })()`

for (const [what, write, expected] of [
  ['raw garbage', "'garbage, not a frame at all'", /larger than the limit|shorter than its own header/],
  ['an oversized frame', 'Buffer.from([0xff, 0xff, 0xff, 0xff, 32, 0, 0, 0, 0])', /a frame of \d+ bytes is larger than the limit of 1048576/],
  ['a log line whose level is null', FRAME(JSON.stringify({ t: 'logs', lines: [{ time: 1, level: null, stream: 'console', requestId: null, message: 'x' }], dropped: 0 })), /level must be one of/],
  ['a log line whose message is not a string', FRAME(JSON.stringify({ t: 'logs', lines: [{ time: 1, level: 'info', stream: 'console', requestId: null, message: { x: 1 } }], dropped: 0 })), /message must be a string/]
] as const) {
  test(`${what} written on fd 3 ends only that instance, with a ProtocolViolation event`, async (t) => {
    const h = harness({ warmPool: { size: 0 } })
    t.after(() => h.manager.stop())
    const { victim, attacker } = victimAndAttacker(`import { writeSync } from 'node:fs'; setTimeout(() => writeSync(3, ${write}), 100)`)
    h.manager.setTargets([victim, attacker])
    await until(() => h.events.some((e) => e.reason === 'ProtocolViolation'), 'the ProtocolViolation event', 20_000)
    const event = h.events.find((e) => e.reason === 'ProtocolViolation')
    assert.equal(event?.type, 'Warning')
    assert.equal(event?.namespace, 'attackers')
    assert.match(event?.message ?? '', expected)
    await victimStillAnswers(h, victim.key)
  })
}

test('600 MiB written to stdout without a newline is cut to one line of 16 KiB; the platform holds none of it', async (t) => {
  const h = harness({ warmPool: { size: 0 } })
  t.after(() => h.manager.stop())
  const before = process.memoryUsage().rss
  const flood = target(`
    import { writeSync } from 'node:fs'
    setTimeout(() => {
      const chunk = Buffer.alloc(1024 * 1024, 0x61)
      for (let i = 0; i < 600; i++) writeSync(1, chunk)
      writeSync(1, '\\nafter the flood\\n')
    }, 50)`)
  h.manager.setTargets([flood])
  await until(() => logged(h).includes('after the flood'), 'the line after the flood', 60_000)
  const lines = h.logs.filter((l) => l.stream === 'stdout')
  assert.equal(lines.length, 2)
  assert.equal(lines[0].message, 'a'.repeat(16 * 1024) + ' …[truncated]')
  const grown = process.memoryUsage().rss - before
  assert.ok(grown < 200 * 1024 * 1024, `the platform grew by ${Math.round(grown / 1048576)} MiB`)
})

test('a flood of lines is rate-limited per instance, and the drop is told in one line', async (t) => {
  const h = harness({ warmPool: { size: 0 } })
  t.after(() => h.manager.stop())
  const chatty = target(`import { writeSync } from 'node:fs'; setTimeout(() => { writeSync(1, 'line\\n'.repeat(5000)); console.log('done') }, 50)`)
  h.manager.setTargets([chatty])
  const droppedLines = (): string[] => logged(h).filter((m) => / log lines dropped/.test(m))
  const kept = (): number => h.logs.filter((l) => l.stream === 'stdout' || l.stream === 'console').length
  const counted = (): number => droppedLines().reduce((sum, m) => sum + Number(/^(\d+)/.exec(m)?.[1]), 0)
  await until(() => kept() + counted() === 5001, 'every line kept or counted as dropped', 20_000)
  assert.ok(kept() >= 1000 && kept() < 2000, `${kept()} lines kept`)
  assert.ok(droppedLines().length >= 1 && droppedLines().length <= 5, `the drops told in ${droppedLines().length} lines, not one each`)
})

test('a uid-dropped instance cannot read a root file, another namespace\'s bundle or the platform\'s environ, nor signal the platform or another tenant', { skip: !asRoot && 'uids are switched only as root' }, async (t) => {
  const driver = testDriver()
  const identities = new NamespaceIdentities({ first: 230_000 })
  const blobs = mkdtempSync(join(tmpdir(), 'roost-blobs-'))
  const bundles = new BundleFiles({ path: (hash: string) => join(blobs, hash) } as unknown as BlobStore, { dir: driver.bundlesDir, identityOf: (ns) => identities.identityOf(ns) })
  const secretFile = join(mkdtempSync(join(tmpdir(), 'roost-secret-')), 'secret')
  writeFileSync(secretFile, 'admin token', { mode: 0o600 })
  writeFileSync(join(blobs, 'a'.repeat(64)), 'export default () => new Response("victim")')
  const victimBundle = bundles.pathOf('a'.repeat(64), 'victims')
  const h = harness({ warmPool: { size: 0 }, identityOf: (ns) => identities.identityOf(ns) }, undefined, driver)
  t.after(() => h.manager.stop())
  const victim = target('', { fn: { namespace: 'victims', name: 'victim', version: 1 }, bundlePath: victimBundle })
  h.manager.setTargets([victim])
  await until(() => ready(h.manager).length === 1, 'the victim ready')
  const victimInfo = only(h, victim.key)
  writeFileSync(join(blobs, 'b'.repeat(64)), `
    import { readFileSync } from 'node:fs'
    import { connect } from 'node:net'
    const attempt = (fn) => { try { fn(); return 'allowed' } catch (err) { return err.code } }
    const result = {
      uid: process.getuid(),
      secretFile: attempt(() => readFileSync(${JSON.stringify(secretFile)})),
      victimBundle: attempt(() => readFileSync(${JSON.stringify(victimBundle)})),
      environ: attempt(() => readFileSync('/proc/' + process.ppid + '/environ')),
      signalPlatform: attempt(() => process.kill(process.ppid, 0)),
      signalVictim: attempt(() => process.kill(${victimInfo.pid as number}, 0))
    }
    const socket = connect(${JSON.stringify(victimInfo.socketPath)})
    socket.on('connect', () => { result.victimSocket = 'allowed'; console.log(JSON.stringify(result)) })
    socket.on('error', (err) => { result.victimSocket = err.code; console.log(JSON.stringify(result)) })
    export default () => new Response('attacker')`)
  const attacker = target('', { fn: { namespace: 'attackers', name: 'attacker', version: 1 }, bundlePath: bundles.pathOf('b'.repeat(64), 'attackers') })
  h.manager.setTargets([victim, attacker])
  await until(() => ready(h.manager, attacker.key).length === 1, 'the attacker ready')
  const seen = await report<Record<string, unknown>>(h, only(h, attacker.key).id, 'the attacker\'s report')
  assert.deepEqual(seen, {
    uid: identities.identityOf('attackers').uid,
    secretFile: 'EACCES',
    victimBundle: 'EACCES',
    environ: 'EACCES',
    signalPlatform: 'EPERM',
    signalVictim: 'EPERM',
    victimSocket: 'EACCES'
  })
  assert.notEqual(identities.identityOf('attackers').uid, identities.identityOf('victims').uid)
  assert.deepEqual(readdirSync(driver.bundlesDir).sort(), [String(identities.identityOf('attackers').gid), String(identities.identityOf('victims').gid)].sort())
  await victimStillAnswers(h, victim.key)
})
