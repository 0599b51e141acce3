import { CronExpressionParser } from 'cron-parser'

export interface ScheduledMin {
  cron: string
  min: number
  /** HH:MM in `timezone`. */
  until: string
  timezone: string
}

/**
 * The highest `min` among the schedule entries in force at `now`. An entry is
 * in force from its latest cron time until the first `until` time of day after
 * it, so "0 9 * * 1-5 until 18:00" holds on weekdays from 09:00 to 18:00.
 */
export function scheduledFloor (schedule: readonly ScheduledMin[], now: number): number {
  let floor = 0
  for (const entry of schedule) {
    if (entry.min <= floor) continue
    const window = activeWindow(entry, now)
    if (window !== null && now < window.end) floor = entry.min
  }
  return floor
}

/** The latest start of `entry` at or before `now`, and when that stretch ends. */
export function activeWindow (entry: ScheduledMin, now: number): { start: number, end: number } | null {
  try {
    // One millisecond past `now` makes a start at exactly `now` count as begun.
    const start = CronExpressionParser.parse(entry.cron, { currentDate: new Date(now + 1), tz: entry.timezone }).prev().getTime()
    const [hours, minutes] = entry.until.split(':')
    // The end is itself a daily cron time, which keeps time zones and DST right.
    const end = CronExpressionParser.parse(`${Number(minutes)} ${Number(hours)} * * *`, { currentDate: new Date(start), tz: entry.timezone }).next().getTime()
    return { start, end }
  } catch {
    // Validated on apply; a schedule that cannot be evaluated raises no floor.
    return null
  }
}
