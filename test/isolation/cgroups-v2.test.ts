// cgroup v2 cannot be tested for real on these machines (v1 hierarchies hold
// the controllers): its files are checked on a folder that stands in for the
// unified hierarchy. What the kernel does with them is not (see docs/isolation.md).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { cgroupsAt } from '../../src/isolation/index.js'

test('v2: controllers are delegated, the instances\' group weighs less, and each process gets memory.max, no swap and pids.max', async () => {
  const root = mkdtempSync(join(tmpdir(), 'roost-cgv2-'))
  try {
    const platform = join(root, 'roost.service')
    mkdirSync(platform)
    const cgroups = cgroupsAt({ version: 2, dir: platform }, 'abc')
    assert.equal(cgroups.version, 2)
    assert.equal(readFileSync(join(platform, 'cgroup.subtree_control'), 'utf8'), '+memory +pids +cpu')
    const base = join(platform, `roost-abc-${process.pid}`)
    assert.equal(readFileSync(join(base, 'cgroup.subtree_control'), 'utf8'), '+memory +pids +cpu')
    assert.equal(readFileSync(join(base, 'cpu.weight'), 'utf8'), '100')

    const group = cgroups.create('f-v1-abc', { memoryBytes: 128 * 1024 * 1024, pidsMax: 64 })
    const dir = join(base, 'f-v1-abc')
    assert.equal(readFileSync(join(dir, 'memory.max'), 'utf8'), String(128 * 1024 * 1024))
    assert.equal(readFileSync(join(dir, 'memory.swap.max'), 'utf8'), '0')
    assert.equal(readFileSync(join(dir, 'pids.max'), 'utf8'), '64')
    group.setMemory(256 * 1024 * 1024)
    assert.equal(readFileSync(join(dir, 'memory.max'), 'utf8'), String(256 * 1024 * 1024))
    group.add(4242)
    assert.equal(readFileSync(join(dir, 'cgroup.procs'), 'utf8'), '4242')

    writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 0\n')
    assert.equal(group.oomKilled(), false)
    writeFileSync(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 9\noom 2\noom_kill 1\n')
    assert.equal(group.oomKilled(), true)
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
})
