// Which scheduled times to fire now, from the last time fired: on time ones
// always, missed ones (the platform was down, or the scheduler ran late) as
// the trigger's catchUp says. Pure: the caller passes the clock's now.
import type { CronSchedule } from './cron-schedule.js'
import { latestFiring, nextFirings } from './cron-schedule.js'

/**
 * skip: missed times are not fired (only those within `lateMs` of now are).
 * latest: the most recent missed time within the window is fired, once (Kubernetes CronJob).
 * all: every missed time within the window is fired, oldest first, at most `max` (the newest ones).
 */
export type CatchUpPolicy = 'skip' | 'latest' | 'all'

export interface CatchUp {
  policy: CatchUpPolicy
  /** How far back before now a missed time still counts for latest and all. */
  windowMs: number
  /** all fires at most this many. */
  max: number
}

export const DEFAULT_CATCH_UP: Readonly<CatchUp> = Object.freeze({ policy: 'skip', windowMs: 3600_000, max: 100 })
/** A time fired this late is still on time, not missed: a scheduler tick is never exact. */
export const DEFAULT_LATE_MS = 60_000

export interface DueQuery {
  /** The latest scheduled time already fired, or the trigger's creation time when it never fired. */
  since: number
  now: number
  catchUp?: Partial<CatchUp>
  lateMs?: number
}

export interface DueFirings {
  /** Scheduled times to fire now, oldest first. */
  fire: number[]
  /** Missed times not fired (skipped by the policy, or outside the window or past max): counted, not listed. */
  missed: number
}

export function dueFirings (schedule: CronSchedule, query: DueQuery): DueFirings {
  const catchUp = { ...DEFAULT_CATCH_UP, ...query.catchUp }
  const lateMs = query.lateMs ?? DEFAULT_LATE_MS
  const { since, now } = query
  if (!(now > since)) return { fire: [], missed: 0 }
  // A time exactly lateMs ago is still on time (the bounds of nextFirings exclude the start).
  const onTimeFrom = Math.max(since, now - lateMs - 1)
  const onTime = nextFirings(schedule, onTimeFrom, now, Number.MAX_SAFE_INTEGER)
  const missedUntil = onTimeFrom
  const windowFrom = Math.max(since, now - catchUp.windowMs)
  switch (catchUp.policy) {
    case 'skip':
      return { fire: onTime, missed: countMissed(schedule, since, missedUntil) }
    case 'latest': {
      // An on-time firing is the latest already: nothing missed is fired besides it.
      const latest = onTime.length > 0 ? undefined : latestFiring(schedule, missedUntil, windowFrom)
      const fired = latest === undefined ? [] : [latest]
      return { fire: [...fired, ...onTime], missed: countMissed(schedule, since, missedUntil) - fired.length }
    }
    case 'all': {
      const inWindow = windowFrom < missedUntil ? nextFirings(schedule, windowFrom, missedUntil, Number.MAX_SAFE_INTEGER) : []
      const room = Math.max(0, catchUp.max - onTime.length)
      const fired = room === 0 ? [] : inWindow.slice(-room)
      return { fire: [...fired, ...onTime], missed: countMissed(schedule, since, missedUntil) - fired.length }
    }
  }
}

// Counted up to a bound: a trigger down for a year on "* * * * *" need not enumerate half a million times.
const MISSED_COUNT_BOUND = 10_000

function countMissed (schedule: CronSchedule, since: number, until: number): number {
  return since < until ? nextFirings(schedule, since, until, MISSED_COUNT_BOUND).length : 0
}
