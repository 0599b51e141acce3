// Time as the events part sees it. Records outlive the process, so this is
// wall-clock time (epoch milliseconds), not the monotonic clock of instances.

export interface WallClock {
  /** Milliseconds since the epoch. */
  now (): number
}

export const systemWallClock: WallClock = { now: () => Date.now() }
