// The counts the governance bench reports a limiter's accuracy with.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { admittedPerSecond, mostInsideAnyInterval } from '../../bench/admission-count.js'

test('admissions per second count the answers of each whole second from the start, and drop those past the last', () => {
  assert.deepEqual(admittedPerSecond([0, 999.9, 1000, 1500, 2999, 3000, 3100], 3), [2, 2, 1])
})

test('a request counts inside an interval only if it was both sent and answered inside it', () => {
  // (1, 1001] holds the last two; no interval of 1000 ms holds all three, as the first left at 0.
  assert.equal(mostInsideAnyInterval([0, 10, 995], [5, 20, 1001], 1000), 2)
  assert.equal(mostInsideAnyInterval([2, 10, 995], [5, 20, 1001], 1000), 3)
})

test('the interval is half-open: a request sent exactly one length before an answer is not inside with it', () => {
  assert.equal(mostInsideAnyInterval([0, 999], [1, 1000], 1000), 1)
  assert.equal(mostInsideAnyInterval([0.5, 999], [1, 1000], 1000), 2)
})

test('a request whose answer took the whole length or longer fits no interval', () => {
  assert.equal(mostInsideAnyInterval([0, 100], [1000, 200], 1000), 1)
})

test('late answers cannot inflate the count: two bursts a window apart stay two bursts of the limit', () => {
  // 1000 admitted at t = 0 and answered late, at 9 ms; 1000 more at t = 1000, answered at once.
  // Counted by arrival, (8, 1008] would hold all 2000.
  const sent = [...new Array<number>(1000).fill(0), ...new Array<number>(1000).fill(1000)]
  const answered = [...new Array<number>(1000).fill(9), ...new Array<number>(1000).fill(1000)]
  assert.equal(mostInsideAnyInterval(sent, answered, 1000), 1000)
})
