// How many messages of one queue may be in flight at once: enough to keep
// every ready instance of the consumer busy to its target, and never more,
// so that a burst waits in the durable queue (where the autoscaler sees it)
// rather than in the gateway's activator buffer.

/**
 * max(1, ready) × perInstance: at zero instances one instance's worth goes
 * out (the gateway's activator holds it and starts an instance at once).
 */
export function inFlightLimit (readyInstances: number, perInstance: number): number {
  const instances = Math.max(1, Math.floor(readyInstances))
  return instances * Math.max(1, Math.ceil(perInstance))
}

/** How many records the next delivery leases: up to a batch, within what may still be in flight. */
export function nextBatchSize (batch: number, limit: number, inFlight: number): number {
  return Math.max(0, Math.min(batch, limit - inFlight))
}

/**
 * How many messages the next fetch from a broker takes: up to `batches`
 * deliveries' worth, within what may still be in flight. Each fetch is a round
 * trip to the broker; one per batch bounded the drain by the round trip.
 */
export function nextFetchSize (batch: number, limit: number, inFlight: number, batches: number): number {
  return Math.max(0, Math.min(batch * Math.max(1, batches), limit - inFlight))
}
