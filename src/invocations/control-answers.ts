import { BrokerUnavailableError, isRoostError, QueueFullError, RoostError } from '../errors/index.js'
import type { ControlAnswer } from '../gateway/index.js'

// The control plane's answers to what the gateway hands over: JSON, or
// problem+json from the RoostError that refused it.

export function jsonAnswer (status: number, body: unknown, headers: Record<string, string> = {}): ControlAnswer {
  return { status, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(body) }
}

export function problemAnswer (err: RoostError, requestId: string, headers: Record<string, string> = {}): ControlAnswer {
  const extra: Record<string, string> = { ...headers, 'content-type': 'application/problem+json' }
  if (err instanceof QueueFullError || err instanceof BrokerUnavailableError) extra['retry-after'] = String(err.retryAfterSeconds)
  return { status: err.status, headers: extra, body: JSON.stringify({ ...err.toProblem(), requestId }) }
}

/** A RoostError as it is; anything else is a bug, answered 500 without its insides. */
export function errorAnswer (err: unknown, requestId: string): ControlAnswer {
  if (isRoostError(err)) return problemAnswer(err, requestId)
  return problemAnswer(new RoostError(`internal error: ${err instanceof Error ? err.message : String(err)}`, { hint: 'this is a bug in Roost; the platform log has details' }), requestId)
}
