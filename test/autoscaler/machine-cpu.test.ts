import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { busyFraction, MachineCpu, parseProcStat } from '../../src/autoscaler/index.js'

// As Linux 6 writes it: user nice system idle iowait irq softirq steal guest guest_nice.
const STAT = `cpu  33593 7 7710 148452 918 3 526 1328 90 0
cpu0 12710 0 3275 79392 146 0 141 647 0 0
cpu1 20883 7 4434 69059 772 3 385 680 90 0
intr 654913 0 0 0
ctxt 1226931
btime 1764637000
processes 9210
procs_running 3
`

describe('parseProcStat', () => {
  test('sums busy time (steal included, guest already in user) and counts the cores', () => {
    const busy = 33593 + 7 + 7710 + 3 + 526 + 1328
    assert.deepEqual(parseProcStat(STAT), { all: { busy, total: busy + 148452 + 918 }, cores: 2 })
  })

  test('reads the four fields of old kernels', () => {
    assert.deepEqual(parseProcStat('cpu 10 0 5 85\ncpu0 10 0 5 85\n'), { all: { busy: 15, total: 100 }, cores: 1 })
  })

  test('is null for text that is not /proc/stat', () => {
    for (const text of ['', 'hello', 'cpu  1 2 x 4\ncpu0 1 2 3 4', 'cpu 1 2 3\ncpu0 1 2 3', 'cpu 1 2 3 4 5\n', 'cpu -1 2 3 4\ncpu0 1 2 3 4', 'cpu0 1 2 3 4\n']) {
      assert.equal(parseProcStat(text), null, JSON.stringify(text))
    }
  })

  test('reads this machine\'s /proc/stat: a spinning core shows as busy', () => {
    const cpu = new MachineCpu()
    assert.equal(cpu.sample(), null, 'the first reading has nothing to compare with')
    // 100 ms is ten clock ticks of every core.
    const until = Date.now() + 100
    while (Date.now() < until);
    const load = cpu.sample()
    assert.ok(load !== null && load.cores >= 1 && load.busy > 0 && load.busy <= 1, JSON.stringify(load))
  })
})

describe('busyFraction', () => {
  test('is the busy share of the ticks between two readings', () => {
    assert.equal(busyFraction({ busy: 100, total: 400 }, { busy: 175, total: 500 }), 0.75)
  })

  test('is null when no tick passed or a counter went back', () => {
    assert.equal(busyFraction({ busy: 100, total: 400 }, { busy: 100, total: 400 }), null)
    assert.equal(busyFraction({ busy: 100, total: 400 }, { busy: 90, total: 500 }), null)
  })
})

describe('MachineCpu', () => {
  test('gives the load since the previous reading, and nothing where /proc/stat cannot be read', () => {
    const texts = ['cpu 100 0 0 300\ncpu0 50 0 0 150\ncpu1 50 0 0 150\n', 'cpu 175 0 0 325\ncpu0 90 0 0 160\ncpu1 85 0 0 165\n', 'garbage']
    let at = 5000
    const cpu = new MachineCpu(() => {
      const text = texts.shift()
      if (text === undefined) throw new Error('ENOENT')
      return text
    }, () => at++)
    assert.equal(cpu.sample(), null)
    assert.deepEqual(cpu.sample(), { at: 5000, cores: 2, busy: 0.75 })
    assert.equal(cpu.sample(), null, 'not /proc/stat')
    assert.equal(cpu.sample(), null, 'unreadable')
  })
})
