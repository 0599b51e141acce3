import { test } from 'node:test'
import assert from 'node:assert/strict'
import { cgroupMounts, instanceGroupName, ownCgroups, platformCgroups, platformKey, processGroupName } from '../../src/isolation/index.js'

const V1_CGROUP = `9:name=systemd:/
8:pids:/
6:freezer:/
4:memory:/process_api/c431
2:cpuacct:/
1:cpu:/
0::/`

const V1_MOUNTS = `31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
37 31 0:34 / /sys/fs/cgroup/freezer rw,relatime - cgroup cgroup rw,freezer
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw`

test('v1: each controller\'s directory is its mount plus the process\'s own path in that hierarchy', () => {
  assert.deepEqual(platformCgroups(V1_CGROUP, V1_MOUNTS, () => 'hugetlb'), {
    version: 1,
    dirs: { memory: '/sys/fs/cgroup/memory/process_api/c431', pids: '/sys/fs/cgroup/pids', cpu: '/sys/fs/cgroup/cpu', freezer: '/sys/fs/cgroup/freezer' }
  })
})

test('v1: controllers mounted together (cpu,cpuacct) and a mount of a sub-tree (a container) are understood', () => {
  const cgroup = '5:cpu,cpuacct:/docker/abc\n4:memory:/docker/abc\n3:pids:/docker/abc\n2:freezer:/docker/abc\n0::/'
  const mounts = [
    '1 0 0:1 /docker/abc /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
    '2 0 0:2 /docker/abc /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
    '3 0 0:3 /docker/abc /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids',
    '4 0 0:4 /docker/abc /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer'
  ].join('\n')
  assert.deepEqual(platformCgroups(cgroup, mounts, () => null), {
    version: 1,
    dirs: { memory: '/sys/fs/cgroup/memory', pids: '/sys/fs/cgroup/pids', cpu: '/sys/fs/cgroup/cpu,cpuacct', freezer: '/sys/fs/cgroup/freezer' }
  })
})

test('v2: used when v1 lacks a controller and the unified cgroup offers memory, pids and cpu', () => {
  const cgroup = '0::/user.slice/roost.service'
  const mounts = '30 23 0:26 / /sys/fs/cgroup rw,nosuid - cgroup2 cgroup2 rw,nsdelegate'
  const asked: string[] = []
  assert.deepEqual(platformCgroups(cgroup, mounts, (dir) => { asked.push(dir); return 'cpuset cpu io memory pids' }), { version: 2, dir: '/sys/fs/cgroup/user.slice/roost.service' })
  assert.deepEqual(asked, ['/sys/fs/cgroup/user.slice/roost.service'])
  assert.equal(platformCgroups(cgroup, mounts, () => 'cpu io'), null, 'no memory controller: no cgroups')
})

test('no cgroups: nothing mounted, or the process\'s cgroup outside what the mount shows', () => {
  assert.equal(platformCgroups('0::/', '', () => null), null)
  const outside = '1 0 0:1 /other /sys/fs/cgroup rw - cgroup2 cgroup2 rw'
  assert.equal(platformCgroups('0::/mine', outside, () => 'memory pids cpu'), null)
  // Only the hugetlb controller on the unified hierarchy here, v1 without freezer:
  assert.equal(platformCgroups(V1_CGROUP.replace('6:freezer:/\n', ''), V1_MOUNTS, () => 'hugetlb'), null)
})

test('mountinfo escapes and /proc/self/cgroup lines are parsed', () => {
  assert.deepEqual(cgroupMounts('1 0 0:1 / /sys/fs/my\\040cgroup rw - cgroup2 cgroup2 rw'), [{ root: '/', point: '/sys/fs/my cgroup', fsType: 'cgroup2', options: ['rw'] }])
  assert.deepEqual([...ownCgroups('4:memory:/a\n1:cpu,cpuacct:/b\n0::/c\n')], [['memory', '/a'], ['cpu', '/b'], ['cpuacct', '/b'], ['', '/c']])
})

test('names: one group per platform home, one directory per process with only safe characters', () => {
  assert.equal(instanceGroupName(platformKey('/root/.roost')), `roost-${platformKey('/root/.roost')}`)
  assert.match(platformKey('/root/.roost'), /^[0-9a-f]{12}$/)
  assert.notEqual(platformKey('/a'), platformKey('/b'))
  assert.equal(processGroupName('hello-v1-abc123'), 'hello-v1-abc123')
  assert.equal(processGroupName('../../etc'), '.._.._etc')
  assert.equal(processGroupName('..'), '_')
  assert.equal(processGroupName('a/b c'), 'a_b_c')
})
