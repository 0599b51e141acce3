// Envoy's retry budget: retries may be at most `budgetRatio` of the recent
// requests (over a sliding window of about ten seconds), but `minPerSecond`
// retries in each second are always allowed, so a quiet function can still
// retry. Only first attempts count as requests: retries cannot raise their own
// budget, so an outage cannot be multiplied by them.

import { BucketWindow } from './bucket-window.js'
import type { RetryPolicy } from './policy.js'

/** The budget's window: ten buckets of a second (between 9 and 10 s). */
export const RETRY_BUDGET_BUCKETS = 10
export const RETRY_BUDGET_BUCKET_MS = 1000

const REQUESTS = 0
const RETRIES = 1

export class RetryBudget {
  private readonly window = new BucketWindow(RETRY_BUDGET_BUCKETS, RETRY_BUDGET_BUCKET_MS, 2)

  constructor (readonly budgetRatio: number, readonly minPerSecond: number) {
    if (!(budgetRatio >= 0) || !Number.isFinite(budgetRatio)) throw new RangeError(`a retry budget ratio must be >= 0, not ${budgetRatio}`)
    if (!(minPerSecond >= 0) || !Number.isFinite(minPerSecond)) throw new RangeError(`a retry budget floor must be >= 0 per second, not ${minPerSecond}`)
  }

  static of (policy: RetryPolicy): RetryBudget {
    return new RetryBudget(policy.budgetRatio, policy.budgetMinPerSecond)
  }

  /** Counts a request's first attempt. */
  recordRequest (now: number): void {
    this.window.add(now, REQUESTS)
  }

  /** Takes one retry from the budget if it has one; false: do not retry. */
  tryRetry (now: number): boolean {
    const requests = this.window.sum(now, REQUESTS)
    const retries = this.window.sum(now, RETRIES)
    // (retries + 1) / requests <= ratio, not retries + 1 <= ratio × requests: 0.1 × 30 is 3.0000000000000004.
    const withinRatio = requests > 0 && (retries + 1) / requests <= this.budgetRatio
    if (!withinRatio && this.window.current(now, RETRIES) >= this.minPerSecond) return false
    this.window.add(now, RETRIES)
    return true
  }

  /** Retries the budget would allow now (the `retry budget left` metric). */
  remaining (now: number): number {
    const requests = this.window.sum(now, REQUESTS)
    const retries = this.window.sum(now, RETRIES)
    const byRatio = largestShare(this.budgetRatio, requests) - retries
    const byFloor = Math.ceil(this.minPerSecond) - this.window.current(now, RETRIES)
    return Math.max(0, byRatio, byFloor)
  }

  snapshot (now: number): { requests: number, retries: number, remaining: number } {
    return { requests: this.window.sum(now, REQUESTS), retries: this.window.sum(now, RETRIES), remaining: this.remaining(now) }
  }
}

/** The largest whole k with k / total <= ratio, decided by division as tryRetry decides it. */
function largestShare (ratio: number, total: number): number {
  if (total === 0) return 0
  let k = Math.floor(ratio * total)
  while (k > 0 && k / total > ratio) k--
  while ((k + 1) / total <= ratio) k++
  return k
}
