// spec.async: where the result of a finished async invocation goes besides
// its X-Callback-Url, a queue of the namespace or another function's async
// call. Which destination a result takes is decided here, as pure code; the
// AsyncInvocations that settled the record does the publishing.
import type { InvocationResult } from './invocation-result.js'

export type ResultDestination = { queue: string } | { function: string }

/** A function's spec.async as the platform keeps it (normalized). */
export interface ResultDestinations {
  onSuccess?: ResultDestination
  onFailure?: ResultDestination
}

/**
 * A result that is itself a destination delivery this many hops deep goes to
 * no destination: two functions naming each other (or one naming itself) stop.
 */
export const MAX_DESTINATION_HOPS = 3
/** The record attribute (a CloudEvents extension) that counts the hops of a destination delivery. */
export const HOPS_ATTRIBUTE = 'hops'

export type DestinationRoute =
  /** No destination for this status (or a cancelled call: nothing ran to report). */
  | { kind: 'none' }
  /** There is one, but the result is already MAX_DESTINATION_HOPS deep. */
  | { kind: 'too-deep', destination: ResultDestination, hops: number }
  /** Deliver it; `hops` is the delivery's own count (the result's plus one). */
  | { kind: 'deliver', destination: ResultDestination, hops: number }

/** Where a final result goes: onSuccess for succeeded, onFailure for failed and expired. */
export function routeResult (result: Pick<InvocationResult, 'status'>, destinations: ResultDestinations | undefined, hops: number): DestinationRoute {
  const destination = result.status === 'succeeded'
    ? destinations?.onSuccess
    : result.status === 'failed' || result.status === 'expired' ? destinations?.onFailure : undefined
  if (destination === undefined) return { kind: 'none' }
  if (hops >= MAX_DESTINATION_HOPS) return { kind: 'too-deep', destination, hops }
  return { kind: 'deliver', destination, hops: hops + 1 }
}

/** The hop count of a record's attributes; 0 for a call from outside (or a value that is not a count). */
export function hopsOf (attributes: Readonly<Record<string, string>>): number {
  const value = attributes[HOPS_ATTRIBUTE]
  if (value === undefined || !/^[0-9]{1,3}$/.test(value)) return 0
  return Number(value)
}

/** `queue shop/orders` or `function shop/audit`, for events and logs. */
export function describeDestination (namespace: string, destination: ResultDestination): string {
  return 'queue' in destination ? `queue ${namespace}/${destination.queue}` : `function ${namespace}/${destination.function}`
}
