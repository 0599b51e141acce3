import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalProcessDriver, PIDS_MAX } from '../../src/instances/index.js'
import { openCgroups, platformKey } from '../../src/isolation/index.js'
import { until } from '../helpers/wait.js'
import { alive, harness, ok, ready, target } from '../instances/fixtures.js'

const cgroups = openCgroups(`probe-${process.pid}`)
const skip = cgroups === null ? 'no writable cgroups here' : false
after(() => cgroups?.close())

function cgroupDir (pid: number, controller: string): string {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').find((l) => l.split(':')[1]?.split(',').includes(controller))
  assert.ok(line !== undefined, `${controller} in /proc/${pid}/cgroup`)
  return join('/sys/fs/cgroup', controller, line.slice(line.indexOf(':', line.indexOf(':') + 1) + 1))
}

test('an instance runs in a cgroup of its own with its limits, below the platform\'s cgroup, in a group that weighs less than the platform', { skip }, async (t) => {
  const h = harness({ warmPool: { size: 0 } })
  t.after(() => h.manager.stop())
  h.manager.setTargets([target(ok, { memoryMiB: 256 })])
  await until(() => ready(h.manager).length === 1, 'ready', 20_000)
  const pid = ready(h.manager)[0].pid as number
  const memory = cgroupDir(pid, 'memory')
  assert.ok(memory.startsWith(cgroupDir(process.pid, 'memory') + '/roost-'), `${memory} is below the platform's own memory cgroup`)
  assert.equal(Number(readFileSync(join(memory, 'memory.limit_in_bytes'), 'utf8')), 256 * 1024 * 1024)
  assert.equal(readFileSync(join(cgroupDir(pid, 'pids'), 'pids.max'), 'utf8').trim(), String(PIDS_MAX))
  assert.equal(readFileSync(join(cgroupDir(pid, 'cpu'), '..', 'cpu.shares'), 'utf8').trim(), '1024', 'all instances together weigh as much as one platform task')
  assert.match(readFileSync(join(cgroupDir(pid, 'freezer'), 'freezer.state'), 'utf8'), /THAWED/)
  assert.deepEqual(h.manager.isolation().mode, 'uid+cgroup-v1')
  await h.manager.stop()
  assert.equal(existsSync(memory), false, 'the cgroup is removed with the instance')
})

test('what a platform that died left in its cgroups is killed and removed when a platform of the same home starts', { skip }, async () => {
  const home = mkdtempSync(join(tmpdir(), 'roost-home-'))
  const runDir = mkdtempSync(join(tmpdir(), 'roost-run-'))
  try {
    // The groups of an earlier run of the same home (its pid long gone).
    const left = openCgroups(platformKey(home), 999_999)
    assert.ok(left !== null)
    const group = left.create('warm-128-dead', { memoryBytes: 128 * 1024 * 1024, pidsMax: 64 })
    const orphan = spawn('sleep', ['1000'], { stdio: 'ignore', detached: true })
    orphan.unref()
    group.add(orphan.pid as number)
    const memory = cgroupDir(orphan.pid as number, 'memory')
    assert.ok(alive(orphan.pid as number))

    const driver = new LocalProcessDriver({ home, runDir })
    await driver.close()
    assert.equal(alive(orphan.pid as number), false, 'the orphan is killed')
    assert.equal(existsSync(memory), false, 'its cgroup is removed')
  } finally {
    rmSync(home, { recursive: true, force: true })
    rmSync(runDir, { recursive: true, force: true })
  }
})

test('the routing table gets each listening instance\'s socket and secret; what users see has neither secret nor more than the socket', async (t) => {
  const h = harness({ warmPool: { size: 0 } })
  t.after(() => h.manager.stop())
  h.manager.setTargets([target(ok)])
  await until(() => ready(h.manager).length === 1, 'ready', 20_000)
  const [info] = h.manager.list()
  const [route] = h.manager.routes()
  assert.deepEqual(route, { id: info.id, versionKey: info.versionKey, state: 'ready', socketPath: info.socketPath, secret: route.secret })
  assert.match(route.secret, /^[0-9a-f]{64}$/)
  assert.ok(!JSON.stringify(h.manager.list()).includes(route.secret), 'list() never carries the secret')
  assert.ok(!JSON.stringify(h.events).includes(route.secret) && !JSON.stringify(h.logs).includes(route.secret), 'nor do events and logs')
})
