import { timingSafeEqual } from 'node:crypto'

// The run's event secret (docs/event-delivery.md): the control plane's
// dispatcher sends it in `x-roost-event-token` on every event delivery, and
// only a request carrying it may pass `x-roost-event` and `x-roost-call-id` on
// to a function and skip the function's caller check.

const HEX_64 = /^[0-9a-f]{64}$/

export class EventToken {
  private readonly expected: Buffer

  constructor (hex: string) {
    if (!HEX_64.test(hex)) throw new RangeError('an event token is 64 lower-case hex characters (32 random bytes)')
    this.expected = Buffer.from(hex, 'latin1')
  }

  /** Compared in constant time: how much of a guess was right never shows in the timing. */
  matches (given: string): boolean {
    if (given.length !== this.expected.length) return false
    return timingSafeEqual(Buffer.from(given, 'latin1'), this.expected)
  }
}
