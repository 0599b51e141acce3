import assert from 'node:assert/strict'
import { test } from 'node:test'
import { dueFirings, overlapDecision, parseCronSchedule } from '../../src/events/index.js'

const at = (hhmmss: string): number => Date.parse(`2025-01-01T${hhmmss}Z`)
const times = (list: number[]): string[] => list.map((t) => new Date(t).toISOString().slice(11, 19))
const EVERY_5 = parseCronSchedule('*/5 * * * *')

test('on time: the time due since the last firing fires, whatever the policy', () => {
  for (const policy of ['skip', 'latest', 'all'] as const) {
    const due = dueFirings(EVERY_5, { since: at('10:00:00'), now: at('10:05:00.250'), catchUp: { policy } })
    assert.deepEqual({ fire: times(due.fire), missed: due.missed }, { fire: ['10:05:00'], missed: 0 }, policy)
  }
})

test('a scheduler tick up to lateMs late still fires the time on time', () => {
  assert.deepEqual(times(dueFirings(EVERY_5, { since: at('10:00:00'), now: at('10:06:00') }).fire), ['10:05:00'])
  const late = dueFirings(EVERY_5, { since: at('10:00:00'), now: at('10:06:00.001') })
  assert.deepEqual([times(late.fire), late.missed], [[], 1])
})

test('nothing is due before the next time, or when now is not past the last firing', () => {
  assert.deepEqual(dueFirings(EVERY_5, { since: at('10:05:00'), now: at('10:09:59') }), { fire: [], missed: 0 })
  assert.deepEqual(dueFirings(EVERY_5, { since: at('10:05:00'), now: at('10:05:00') }), { fire: [], missed: 0 })
})

// Down from 10:00 to 12:02: the 24 times 10:05 … 12:00 were missed.
const DOWNTIME = { since: at('10:00:00'), now: at('12:02:00') }

test('catchUp skip: after downtime the missed times are counted, not fired', () => {
  assert.deepEqual(dueFirings(EVERY_5, { ...DOWNTIME, catchUp: { policy: 'skip' } }), { fire: [], missed: 24 })
})

test('catchUp latest: only the most recent missed time within the window fires, once', () => {
  const due = dueFirings(EVERY_5, { ...DOWNTIME, catchUp: { policy: 'latest', windowMs: 3600_000 } })
  assert.deepEqual([times(due.fire), due.missed], [['12:00:00'], 23])
  const outside = dueFirings(EVERY_5, { ...DOWNTIME, catchUp: { policy: 'latest', windowMs: 90_000 } })
  assert.deepEqual([times(outside.fire), outside.missed], [[], 24], 'the window reaches back to 12:00:30 only')
})

test('catchUp all: every missed time within the window fires, oldest first, at most max (the newest)', () => {
  const due = dueFirings(EVERY_5, { ...DOWNTIME, catchUp: { policy: 'all', windowMs: 3600_000, max: 100 } })
  assert.deepEqual(times(due.fire), ['11:05:00', '11:10:00', '11:15:00', '11:20:00', '11:25:00', '11:30:00', '11:35:00', '11:40:00', '11:45:00', '11:50:00', '11:55:00', '12:00:00'])
  assert.equal(due.missed, 12)
  const capped = dueFirings(EVERY_5, { ...DOWNTIME, catchUp: { policy: 'all', windowMs: 3600_000, max: 3 } })
  assert.deepEqual([times(capped.fire), capped.missed], [['11:50:00', '11:55:00', '12:00:00'], 21])
})

test('catchUp latest with a time on time fires just that one', () => {
  const due = dueFirings(EVERY_5, { since: at('10:00:00'), now: at('12:05:10'), catchUp: { policy: 'latest' } })
  assert.deepEqual([times(due.fire), due.missed], [['12:05:00'], 24])
})

test('a new trigger starts from its creation: nothing before it is missed', () => {
  const due = dueFirings(EVERY_5, { since: at('11:58:00'), now: at('12:02:00'), catchUp: { policy: 'all' } })
  assert.deepEqual([times(due.fire), due.missed], [['12:00:00'], 0])
})

test('overlap: allow starts beside the running ones, forbid skips, replace replaces; with none running all start', () => {
  assert.deepEqual((['allow', 'forbid', 'replace'] as const).map((p) => overlapDecision(p, 1)), ['start', 'skip', 'replace'])
  assert.deepEqual((['allow', 'forbid', 'replace'] as const).map((p) => overlapDecision(p, 0)), ['start', 'start', 'start'])
})
