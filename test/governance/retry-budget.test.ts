import { describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { RetryBudget } from '../../src/governance/index.js'

function retries (budget: RetryBudget, now: number, n: number): number {
  let allowed = 0
  for (let i = 0; i < n; i++) if (budget.tryRetry(now)) allowed++
  return allowed
}

function requests (budget: RetryBudget, now: number, n: number): void {
  for (let i = 0; i < n; i++) budget.recordRequest(now)
}

describe('RetryBudget', () => {
  test('allows budgetRatio of the recent requests as retries', () => {
    const budget = new RetryBudget(0.2, 0)
    requests(budget, 0, 100)
    assert.equal(budget.remaining(0), 20)
    assert.equal(retries(budget, 0, 25), 20)
    assert.equal(budget.remaining(0), 0)
  })

  test('retries do not raise their own budget: only first attempts are requests', () => {
    const budget = new RetryBudget(0.5, 0)
    requests(budget, 0, 10)
    assert.equal(retries(budget, 0, 10), 5)
    assert.equal(retries(budget, 100, 10), 0)
    requests(budget, 100, 2)
    assert.equal(retries(budget, 100, 10), 1)
  })

  test('allows minPerSecond retries in each second, with no requests at all', () => {
    const budget = new RetryBudget(0.2, 3)
    assert.equal(retries(budget, 0, 5), 3)
    assert.equal(retries(budget, 999, 5), 0)
    assert.equal(retries(budget, 1000, 5), 3)
  })

  test('the floor adds to an exhausted ratio: 20% of 10 requests and 3 more in the second', () => {
    const budget = new RetryBudget(0.2, 3)
    requests(budget, 0, 10)
    assert.equal(budget.remaining(0), 3)
    assert.equal(retries(budget, 0, 10), 3)
    assert.equal(retries(budget, 1000, 10), 3)
  })

  test('counts requests over about ten seconds: gone at 10 s, not at 9.999 s', () => {
    const budget = new RetryBudget(0.2, 0)
    requests(budget, 0, 100)
    assert.equal(retries(budget, 0, 10), 10)
    assert.equal(retries(budget, 9999, 20), 10)
    assert.equal(budget.remaining(10_000), 0)
    // The requests of t=0 are gone; the retries of t=9999 still count against new ones.
    requests(budget, 10_000, 100)
    assert.equal(retries(budget, 10_000, 20), 10)
  })

  test('a ratio that does not multiply exactly is held by quotient: 0.1 of 30 requests is 3 retries, not 4', () => {
    const budget = new RetryBudget(0.1, 0)
    requests(budget, 0, 30)
    assert.equal(budget.remaining(0), 3)
    assert.equal(retries(budget, 0, 10), 3)
  })

  test('the snapshot shows requests, retries and what is left', () => {
    const budget = RetryBudget.of({ attempts: 3, baseMs: 25, capMs: 250, budgetRatio: 0.2, budgetMinPerSecond: 1 })
    requests(budget, 0, 20)
    retries(budget, 0, 2)
    assert.deepEqual(budget.snapshot(0), { requests: 20, retries: 2, remaining: 2 })
  })
})
