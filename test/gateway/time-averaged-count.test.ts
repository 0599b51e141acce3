import { test } from 'node:test'
import { setTimeout as delay } from 'node:timers/promises'
import assert from 'node:assert/strict'
import { TimeAveragedCount } from '../../src/gateway/time-averaged-count.js'
import { PendingAnswers } from '../../src/gateway/pending-answers.js'

test('the average is the integral of the count over the interval, not a sample', () => {
  const count = new TimeAveragedCount(0)
  count.add(1, 0)
  count.add(1, 250)
  count.add(-2, 750)
  // 1 for 250 ms, 2 for 500 ms, 0 for 250 ms over 1000 ms.
  assert.equal(count.takeAverage(1000, 1000), 1.25)
  assert.equal(count.value, 0)
  count.add(3, 1000)
  // The next interval starts where the last one ended.
  assert.equal(count.takeAverage(1500, 500), 3)
  assert.equal(count.takeAverage(1500, 0), 3, 'an empty interval reads the current count')
})

test('pending answers resolve by id, and with the fallback after the timeout or when abandoned', async () => {
  const answers = new PendingAnswers<string>(50, 'none')
  const sent: number[] = []
  const first = answers.ask((id) => sent.push(id))
  const second = answers.ask((id) => sent.push(id))
  answers.answer(sent[1], 'two')
  assert.equal(await second, 'two')
  // Its timer does not hold the process open (unref): wait past it here.
  await delay(80)
  assert.equal(await first, 'none')
  const third = answers.ask(() => {})
  answers.abandon()
  assert.equal(await third, 'none')
  answers.answer(sent[1], 'late')
})
