// What a settlement of the failure-class table (settlement.ts) does to a
// broker's message: the same table as the embedded queue, and Roost's own
// count of attempts and backoff, so a message retries and dies alike on every
// broker (docs/connectors.md).
import type { BrokerMessage } from '../connectors/index.js'
import type { DeadCopy, LeasedRecord, RandomSource, Settlement } from '../events/index.js'
import { afterCountedFailure } from '../events/index.js'

export type BrokerAction =
  | { op: 'ack' }
  | { op: 'retry', delayMs: number }
  | { op: 'release', delayMs: number }
  | { op: 'dead', reason: string, outcome: DeadCopy['outcome'], error?: string, status?: number }

/** The action of nearly every settlement, made once (actions are read, never changed). */
const ACK: BrokerAction = Object.freeze({ op: 'ack' })

export interface AttemptPolicy {
  maxAttempts: number
  backoff: { initialMs: number, maxMs: number }
}

/** A broker message as the delivery body and the settlement table read a record. */
export function recordOf (message: BrokerMessage, namespace: string, queue: string, maxAttempts: number, leaseExpiresAt: number): LeasedRecord {
  return {
    id: message.id, kind: 'message', namespace, queue, token: 0, attempt: message.attempt, maxAttempts,
    createdAt: message.publishedAt, leaseExpiresAt,
    body: message.body, bodyType: message.bodyType, source: message.source, type: message.type, subject: message.subject,
    contentType: message.contentType, attributes: message.attributes
  }
}

export function brokerAction (settlement: Settlement, attempt: number, policy: AttemptPolicy, random: RandomSource): BrokerAction {
  switch (settlement.outcome) {
    case 'succeeded':
      return ACK
    case 'released':
      return { op: 'release', delayMs: settlement.delayMs ?? 0 }
    case 'dead':
      return dead(settlement.reason, 'dead', settlement.error, settlement.status)
    case 'failed': {
      // The settler's words for the dead reason: "error: boom on attempt 5 of 5: no attempts left".
      const what = settlement.error === undefined ? settlement.cause : `${settlement.cause}: ${settlement.error}`
      const next = afterCountedFailure({
        attempts: Math.max(0, attempt - 1), maxAttempts: policy.maxAttempts, backoffInitialMs: policy.backoff.initialMs, backoffMaxMs: policy.backoff.maxMs
      }, 0, { what, retryAfterMs: settlement.retryAfterMs }, random)
      if (next.state === 'dead') return dead(next.deadReason ?? what, settlement.cause, settlement.error, settlement.status)
      return { op: 'retry', delayMs: next.notBefore }
    }
  }
}

function dead (reason: string, outcome: DeadCopy['outcome'], error: string | undefined, status: number | undefined): BrokerAction {
  const action: BrokerAction = { op: 'dead', reason, outcome }
  if (error !== undefined) action.error = error
  if (status !== undefined) action.status = status
  return action
}
