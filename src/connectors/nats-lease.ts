// The lease clock the NATS connector fences on. nats-server 2.9 takes an
// acknowledgement for a delivery whose ack wait ran out even after it gave the
// message to another consumer, so the connector refuses a settlement itself
// once its own clock says the lease may have run out on the server. The clock
// starts when the message came (the server started its ack wait a little
// before) and ends a margin early, so that a settlement sent just before the
// end still reaches the server inside its ack wait. Pure.

/** How much sooner than the server's ack wait a lease ends here: a tenth of it, at least 50 ms, at most a second. */
export function fenceMargin (leaseMs: number): number {
  return Math.min(1_000, Math.max(50, Math.round(leaseMs / 10)))
}

/** When a lease that began at `from` (epoch ms) ends on this side. */
export function leaseEnd (from: number, leaseMs: number): number {
  return from + leaseMs - fenceMargin(leaseMs)
}
