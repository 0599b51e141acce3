// Where a record goes after a delivery ends, as pure code: the settle and
// lease-expiry paths both write what these return.
import type { RandomSource } from './backoff.js'
import { backoffDelay } from './backoff.js'

export interface AttemptBudget {
  /** Counted attempts before this one. */
  attempts: number
  maxAttempts: number
  backoffInitialMs: number
  backoffMaxMs: number
}

export interface FailureTransition {
  state: 'ready' | 'dead'
  /** Counted attempts, this one included. */
  attempts: number
  notBefore: number
  deadReason: string | null
}

export interface FailureInput {
  /** What the attempt ended with, for the dead reason: "threw: boom", "lease expired". */
  what: string
  /** The handler's "retry after N ms"; the backoff when absent. */
  retryAfterMs?: number
  /** The handler's "do not retry this one": dead at once with this reason. */
  noRetryReason?: string
}

/**
 * A counted attempt failed: dead if the handler said not to retry or this was
 * the last attempt, otherwise ready again after the asked delay or the backoff.
 */
export function afterCountedFailure (budget: AttemptBudget, now: number, input: FailureInput, random: RandomSource): FailureTransition {
  const attempts = budget.attempts + 1
  if (input.noRetryReason !== undefined) {
    return { state: 'dead', attempts, notBefore: now, deadReason: input.noRetryReason }
  }
  if (attempts >= budget.maxAttempts) {
    return { state: 'dead', attempts, notBefore: now, deadReason: `${input.what} on attempt ${attempts} of ${budget.maxAttempts}: no attempts left` }
  }
  const delay = input.retryAfterMs ?? backoffDelay(attempts, { initialMs: budget.backoffInitialMs, maxMs: budget.backoffMaxMs }, random)
  return { state: 'ready', attempts, notBefore: now + delay, deadReason: null }
}
