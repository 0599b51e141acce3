// The lease clock the NATS connector fences on. nats-server 2.9 takes an
// acknowledgement for a delivery whose ack wait ran out even after it gave the
// message to another consumer, so the connector refuses a settlement itself
// once its own clock says the lease may have run out on the server. The
// server started its ack wait when it sent the message: after the pull
// request was sent, a little before the client read the message. So the
// clock starts a margin before the message was read (never before the
// request), and ends a margin early, so that a settlement sent just before
// the end still reaches the server inside its ack wait, even when this
// process was slow to read. Pure.

/** How much sooner than the server's ack wait a lease ends here: a tenth of it, at least 50 ms, at most a second. */
export function fenceMargin (leaseMs: number): number {
  return Math.min(1_000, Math.max(50, Math.round(leaseMs / 10)))
}

/** When a lease that began at `from` (epoch ms) ends on this side. */
export function leaseEnd (from: number, leaseMs: number): number {
  return from + leaseMs - fenceMargin(leaseMs)
}

/** When the server may have started the ack wait of a message read at `readAt` for a pull request sent at `sentAt`. */
export function leaseStart (sentAt: number, readAt: number, leaseMs: number): number {
  return Math.max(sentAt, readAt - fenceMargin(leaseMs))
}
