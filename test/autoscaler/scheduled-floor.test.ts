import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { activeWindow, scheduledFloor, SlidingWindow } from '../../src/autoscaler/index.js'

const weekdays = { cron: '0 9 * * 1-5', min: 5, until: '18:00', timezone: 'UTC' }
// 2026-11-25 is a Wednesday.
const at = (iso: string): number => Date.parse(iso)

describe('scheduledFloor', () => {
  test('raises the floor from the cron time until the end time', () => {
    assert.equal(scheduledFloor([weekdays], at('2026-11-25T08:59:00Z')), 0)
    assert.equal(scheduledFloor([weekdays], at('2026-11-25T09:00:00Z')), 5)
    assert.equal(scheduledFloor([weekdays], at('2026-11-25T17:59:59Z')), 5)
    assert.equal(scheduledFloor([weekdays], at('2026-11-25T18:00:00Z')), 0)
  })

  test('does not hold on days the cron expression leaves out', () => {
    assert.equal(scheduledFloor([weekdays], at('2026-11-28T10:00:00Z')), 0)
  })

  test('a stretch may run past midnight', () => {
    const night = { cron: '0 22 * * *', min: 2, until: '06:00', timezone: 'UTC' }
    assert.equal(scheduledFloor([night], at('2026-11-25T23:30:00Z')), 2)
    assert.equal(scheduledFloor([night], at('2026-11-26T05:59:00Z')), 2)
    assert.equal(scheduledFloor([night], at('2026-11-26T06:00:00Z')), 0)
  })

  test('reads cron and end time in the entry time zone', () => {
    const paris = { ...weekdays, timezone: 'Europe/Paris' }
    // 09:00 in Paris is 08:00 UTC in winter.
    assert.equal(scheduledFloor([paris], at('2026-11-25T08:00:00Z')), 5)
    assert.equal(scheduledFloor([paris], at('2026-11-25T16:59:00Z')), 5)
    assert.equal(scheduledFloor([paris], at('2026-11-25T17:00:00Z')), 0)
    const window = activeWindow(paris, at('2026-11-25T12:00:00Z'))
    assert.deepEqual(window, { start: at('2026-11-25T08:00:00Z'), end: at('2026-11-25T17:00:00Z') })
  })

  test('the highest floor of overlapping entries wins', () => {
    const lunch = { cron: '30 11 * * *', min: 8, until: '13:30', timezone: 'UTC' }
    assert.equal(scheduledFloor([weekdays, lunch], at('2026-11-25T12:00:00Z')), 8)
    assert.equal(scheduledFloor([weekdays, lunch], at('2026-11-25T14:00:00Z')), 5)
  })
})

describe('SlidingWindow', () => {
  test('averages the newest samples, and what it has before it is full', () => {
    const window = new SlidingWindow(4)
    assert.equal(window.average(4), 0)
    window.push(2)
    assert.equal(window.average(4), 2)
    for (const value of [4, 6, 8, 10]) window.push(value)
    assert.equal(window.average(4), 7)
    assert.equal(window.average(1), 10)
    assert.equal(window.average(2), 9)
  })
})
