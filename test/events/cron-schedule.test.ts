import assert from 'node:assert/strict'
import { test } from 'node:test'
import { ValidationError } from '../../src/errors/index.js'
import { cronScheduleProblems, latestFiring, nextFiring, nextFirings, parseCronSchedule } from '../../src/events/index.js'

const at = (iso: string): number => Date.parse(iso)
const isos = (times: number[]): string[] => times.map((t) => new Date(t).toISOString())
const MINUTE = 60_000

test('firings are the instants after `after` up to and including `before`, in order', () => {
  const every5 = parseCronSchedule('*/5 * * * *')
  assert.deepEqual(isos(nextFirings(every5, at('2025-01-01T00:05:00Z'), at('2025-01-01T00:20:00Z'))), [
    '2025-01-01T00:10:00.000Z', '2025-01-01T00:15:00.000Z', '2025-01-01T00:20:00.000Z'
  ])
  assert.deepEqual(isos(nextFirings(every5, at('2025-01-01T00:04:59.999Z'), at('2025-01-01T00:05:00Z'))), ['2025-01-01T00:05:00.000Z'])
  assert.deepEqual(nextFirings(every5, at('2025-01-01T00:05:00Z'), at('2025-01-01T00:05:00Z')), [])
  assert.equal(nextFirings(every5, 0, at('2025-01-01T00:00:00Z'), 3).length, 3)
  assert.equal(nextFiring(every5, at('2025-01-01T00:07:00Z')), at('2025-01-01T00:10:00Z'))
})

test('a schedule runs in its time zone: 09:00 Europe/Paris is 08:00Z in winter and 07:00Z in summer', () => {
  const nine = parseCronSchedule('0 9 * * *', 'Europe/Paris')
  assert.equal(nextFiring(nine, at('2025-01-15T00:00:00Z')), at('2025-01-15T08:00:00Z'))
  assert.equal(nextFiring(nine, at('2025-07-15T00:00:00Z')), at('2025-07-15T07:00:00Z'))
})

// 2025-03-30, Europe/Paris: 02:00 CET (01:00Z) jumps to 03:00 CEST; 02:00–02:59 do not exist.
test('spring forward: a time in the gap fires once, at the same wall time one hour on (02:30 → 03:30 CEST)', () => {
  const schedule = parseCronSchedule('30 2 * * *', 'Europe/Paris')
  assert.deepEqual(isos(nextFirings(schedule, at('2025-03-29T00:00:00Z'), at('2025-03-31T23:00:00Z'))), [
    '2025-03-29T01:30:00.000Z', // 02:30 CET
    '2025-03-30T01:30:00.000Z', // 03:30 CEST: 02:30 did not exist
    '2025-03-31T00:30:00.000Z' // 02:30 CEST
  ])
  assert.equal(nextFiring(parseCronSchedule('0 2 * * *', 'Europe/Paris'), at('2025-03-29T12:00:00Z')), at('2025-03-30T01:00:00Z'))
})

test('spring forward: a schedule naming 02:30 and 03:30 fires once at 03:30 on the day of the gap', () => {
  const schedule = parseCronSchedule('30 2,3 * * *', 'Europe/Paris')
  assert.deepEqual(isos(nextFirings(schedule, at('2025-03-29T22:00:00Z'), at('2025-03-30T22:00:00Z'))), ['2025-03-30T01:30:00.000Z'])
})

test('spring forward: asked from just after the gap, the shifted time is still there (45 2 → 03:45 CEST)', () => {
  const schedule = parseCronSchedule('45 2 * * *', 'Europe/Paris')
  assert.equal(nextFiring(schedule, at('2025-03-29T12:00:00Z')), at('2025-03-30T01:45:00Z'))
  assert.equal(nextFiring(schedule, at('2025-03-30T01:10:00Z')), at('2025-03-30T01:45:00Z')) // asked at 03:10 CEST
})

// 2025-10-26, Europe/Paris: 03:00 CEST (01:00Z) goes back to 02:00 CET; 02:00–02:59 happen twice.
test('fall back: a fixed time in the repeated hour fires once, at its first occurrence', () => {
  const schedule = parseCronSchedule('30 2 * * *', 'Europe/Paris')
  assert.deepEqual(isos(nextFirings(schedule, at('2025-10-25T00:00:00Z'), at('2025-10-27T23:00:00Z'))), [
    '2025-10-25T00:30:00.000Z',
    '2025-10-26T00:30:00.000Z', // 02:30 CEST; not again at 02:30 CET (01:30Z)
    '2025-10-27T01:30:00.000Z'
  ])
})

test('fall back: asked from inside the repeated hour, the second 02:30 is not a firing', () => {
  const schedule = parseCronSchedule('30 2 * * *', 'Europe/Paris')
  assert.equal(nextFiring(schedule, at('2025-10-26T00:45:00Z')), at('2025-10-27T01:30:00Z')) // asked at 02:45 CEST
  assert.equal(nextFiring(schedule, at('2025-10-26T01:15:00Z')), at('2025-10-27T01:30:00Z')) // asked at 02:15 CET
  assert.equal(latestFiring(schedule, at('2025-10-26T03:00:00Z'), at('2025-10-25T12:00:00Z')), at('2025-10-26T00:30:00Z'))
})

test('fall back: a schedule with every hour follows elapsed time and fires in both passes', () => {
  const schedule = parseCronSchedule('*/30 * * * *', 'Europe/Paris')
  assert.deepEqual(isos(nextFirings(schedule, at('2025-10-25T23:45:00Z'), at('2025-10-26T02:00:00Z'))), [
    '2025-10-26T00:00:00.000Z', '2025-10-26T00:30:00.000Z', // 02:00, 02:30 CEST
    '2025-10-26T01:00:00.000Z', '2025-10-26T01:30:00.000Z', // 02:00, 02:30 CET
    '2025-10-26T02:00:00.000Z' // 03:00 CET
  ])
  assert.deepEqual(isos(nextFirings(parseCronSchedule('0 */2 * * *', 'Europe/Paris'), at('2025-10-25T21:30:00Z'), at('2025-10-26T04:00:00Z'))), [
    '2025-10-25T22:00:00.000Z', '2025-10-26T00:00:00.000Z', '2025-10-26T03:00:00.000Z' // 00:00, 02:00 CEST, 04:00 CET: an hour restricted, once
  ])
})

test('the firings are one fixed set: asked from any minute around either change, the next one is the next of that set', () => {
  const cases: Array<[string, string, string]> = [
    ['30 2 * * *', 'Europe/Paris', '2025-03-29T20:00:00Z'],
    ['45 2 * * *', 'Europe/Paris', '2025-03-29T20:00:00Z'],
    ['*/20 * * * *', 'Europe/Paris', '2025-03-29T20:00:00Z'],
    ['30 2 * * *', 'Europe/Paris', '2025-10-25T20:00:00Z'],
    ['*/20 * * * *', 'Europe/Paris', '2025-10-25T20:00:00Z'],
    ['0 1 * * *', 'America/New_York', '2025-11-02T00:00:00Z'],
    ['30 0 * * *', 'America/Santiago', '2025-09-06T00:00:00Z']
  ]
  for (const [expression, zone, from] of cases) {
    const schedule = parseCronSchedule(expression, zone)
    const start = at(from)
    const all = nextFirings(schedule, start, start + 3 * 86_400_000)
    for (let asked = start; asked < start + 12 * 3600_000; asked += MINUTE) {
      const expected = all.find((t) => t > asked)
      assert.equal(nextFiring(schedule, asked), expected, `${expression} ${zone} asked at ${new Date(asked).toISOString()}`)
    }
  }
})

test('the latest firing is the last of the set at or before a time, and after `since`', () => {
  const hourly = parseCronSchedule('0 * * * *')
  assert.equal(latestFiring(hourly, at('2025-01-01T10:00:00Z'), 0), at('2025-01-01T10:00:00Z'))
  assert.equal(latestFiring(hourly, at('2025-01-01T10:59:59Z'), 0), at('2025-01-01T10:00:00Z'))
  assert.equal(latestFiring(hourly, at('2025-01-01T10:59:59Z'), at('2025-01-01T10:00:00Z')), undefined)
  assert.equal(latestFiring(parseCronSchedule('45 2 * * *', 'Europe/Paris'), at('2025-03-30T02:00:00Z'), 0), at('2025-03-30T01:45:00Z'))
})

test('H fields take their values from the seed: the same trigger keeps the same times', () => {
  const a = parseCronSchedule('H H * * *', 'UTC', { seed: 'shop/nightly' })
  const b = parseCronSchedule('H H * * *', 'UTC', { seed: 'shop/nightly' })
  assert.deepEqual(nextFirings(a, 0, 10 * 86_400_000), nextFirings(b, 0, 10 * 86_400_000))
})

test('a bad expression or an unknown time zone is refused with its field and a clear message', () => {
  assert.deepEqual(cronScheduleProblems('*/5 * * * *', 'Europe/Paris'), [])
  assert.deepEqual(cronScheduleProblems('61 * * * *', 'UTC'), [{ field: 'schedule', message: '"61 * * * *" is not a cron expression: Constraint error, got value 61 expected range 0-59' }])
  assert.deepEqual(cronScheduleProblems('* * * *', 'UTC'), [{ field: 'schedule', message: 'expected 5 fields (minute hour day-of-month month day-of-week), got 4 in "* * * *"' }])
  assert.deepEqual(cronScheduleProblems('@secondly', 'UTC').map((p) => p.field), ['schedule'])
  assert.deepEqual(cronScheduleProblems('0 0 31 2 *', 'UTC').map((p) => p.field), ['schedule'])
  assert.deepEqual(cronScheduleProblems('', 'UTC').map((p) => p.field), ['schedule'])
  assert.throws(() => parseCronSchedule('hello', 'Mars/Olympus', { field: 'spec.triggers[0].cron' }), (err: unknown) => {
    assert.ok(err instanceof ValidationError)
    assert.deepEqual(err.errors.map((e) => e.field), ['spec.triggers[0].cron.schedule', 'spec.triggers[0].cron.timezone'])
    assert.equal(err.errors[1]?.message, '"Mars/Olympus" is not an IANA time zone (e.g. "UTC", "Europe/Paris", "America/New_York")')
    return true
  })
})

test('aliases and zone spellings: @daily is midnight, "utc" and "europe/paris" are their canonical zones', () => {
  const daily = parseCronSchedule('@daily', 'europe/paris')
  assert.equal(daily.timezone, 'Europe/Paris')
  assert.equal(nextFiring(daily, at('2025-01-01T12:00:00Z')), at('2025-01-01T23:00:00Z'))
  assert.equal(parseCronSchedule('0 0 * * *', 'utc').timezone, 'UTC')
})
