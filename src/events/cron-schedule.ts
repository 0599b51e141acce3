// The cron calendar: which instants a schedule fires at, in its time zone,
// as pure code (time is an argument, never read). cron-parser does the field
// parsing and the wall-clock arithmetic (through Luxon); what it leaves open
// at daylight-saving changes is settled here, so that the set of firing
// instants is one fixed set whatever instant a question starts from:
//
// - A wall time that does not exist (spring forward: 02:30 on 2025-03-30 in
//   Europe/Paris) fires once, at the instant the clock would show had it not
//   jumped: 02:30 → 03:30 CEST (01:30Z); 02:00 → 03:00. A schedule that names
//   both 02:30 and 03:30 fires once at 03:30 that day.
// - A wall time that happens twice (fall back: 02:30 on 2025-10-26 in
//   Europe/Paris) fires once, at its first occurrence (02:30 CEST, 00:30Z),
//   when the schedule restricts the hour ("30 2 * * *", "0 */2 * * *"). A
//   schedule with every hour ("*/30 * * * *", "0 * * * *") is about elapsed
//   time and fires in both passes, so it leaves no hole of an hour.
//
// cron-parser iterating forward from before a change gives exactly that; one
// started inside the repeated hour or just after a gap does not (it fires a
// second 02:30, or skips the shifted 03:45 of "45 2"). So an iteration that
// starts within three hours after an offset change starts three hours
// earlier instead, and the firings before the asked start are dropped.
import type { CronExpression } from 'cron-parser'
import { CronExpressionParser } from 'cron-parser'
import type { FieldProblem } from '../errors/index.js'
import { ValidationError } from '../errors/index.js'
import { canonicalTimeZone, utcOffsetMinutes } from './time-zone.js'

export interface CronSchedule {
  readonly expression: string
  /** The canonical IANA name. */
  readonly timezone: string
  readonly iterator: CronExpression
}

export interface CronScheduleOptions {
  /** The seed of `H` fields; the trigger's identity, so its times do not change across restarts. */
  seed?: string
  /** Where the schedule sits in a manifest, for error fields ("spec.triggers[0].cron"). */
  field?: string
}

const CRON_FIELDS = 5
// Past this, a change of offset can no longer disturb an iteration (DST shifts are at most two hours).
const DST_SETTLE_MS = 3 * 3600_000
/** nextFirings returns at most this many firings by default. */
export const MAX_FIRINGS = 1000
const ALIASES = new Set(['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly', '@minutely', '@weekdays', '@weekends'])

/** The problems of a schedule and time zone, each with its field; empty when both are good. */
export function cronScheduleProblems (expression: string, timezone: string, field = ''): FieldProblem[] {
  const problems: FieldProblem[] = []
  const at = (name: string): string => field === '' ? name : `${field}.${name}`
  const shape = expressionShapeProblem(expression)
  if (shape !== null) {
    problems.push({ field: at('schedule'), message: shape })
  } else {
    try {
      CronExpressionParser.parse(expression.trim(), { tz: 'UTC', hashSeed: 'check' })
    } catch (error) {
      problems.push({ field: at('schedule'), message: `${JSON.stringify(expression)} is not a cron expression: ${(error as Error).message}` })
    }
  }
  if (canonicalTimeZone(timezone) === undefined) {
    problems.push({ field: at('timezone'), message: `${JSON.stringify(timezone)} is not an IANA time zone (e.g. "UTC", "Europe/Paris", "America/New_York")` })
  }
  return problems
}

/** A checked schedule; ValidationError naming the schedule and time zone fields when either is bad. */
export function parseCronSchedule (expression: string, timezone = 'UTC', options: CronScheduleOptions = {}): CronSchedule {
  const problems = cronScheduleProblems(expression, timezone, options.field)
  if (problems.length > 0) {
    throw new ValidationError(problems, { hint: 'a schedule has five fields (minute hour day-of-month month day-of-week) or is an @alias such as @daily; the time zone is an IANA name' })
  }
  const zone = canonicalTimeZone(timezone) as string
  const iterator = CronExpressionParser.parse(expression.trim(), { tz: zone, hashSeed: options.seed ?? `${expression}@${zone}`, currentDate: new Date(0) })
  return { expression: expression.trim(), timezone: zone, iterator }
}

/** The firing instants t with after < t ≤ before, in order, at most `limit`. */
export function nextFirings (schedule: CronSchedule, after: number, before: number, limit = MAX_FIRINGS): number[] {
  const firings: number[] = []
  if (!(before > after) || limit <= 0) return firings
  const iterator = schedule.iterator
  iterator.reset(new Date(iterationStart(schedule.timezone, after)))
  let last = -Infinity
  while (firings.length < limit) {
    const next = step(iterator)
    if (next === undefined || next > before) break
    if (next <= after || next <= last) continue
    firings.push(next)
    last = next
  }
  return firings
}

/** The first firing after `after`; undefined when the schedule never fires again. */
export function nextFiring (schedule: CronSchedule, after: number): number | undefined {
  const iterator = schedule.iterator
  iterator.reset(new Date(iterationStart(schedule.timezone, after)))
  for (;;) {
    const next = step(iterator)
    if (next === undefined || next > after) return next
  }
}

/** The latest firing t with since < t ≤ atOrBefore; undefined when there is none. */
export function latestFiring (schedule: CronSchedule, atOrBefore: number, since: number): number | undefined {
  const iterator = schedule.iterator
  iterator.reset(new Date(atOrBefore + 1))
  let candidate: number | undefined
  try {
    candidate = iterator.prev().getTime()
  } catch {
    candidate = undefined // no earlier time at all
  }
  // prev() is only a starting point: the canonical firings near it are counted forward, as nextFirings does.
  const from = Math.max(since, (candidate ?? since) - DST_SETTLE_MS - 1)
  const firings = nextFirings(schedule, from, atOrBefore, Number.MAX_SAFE_INTEGER)
  const latest = firings[firings.length - 1]
  return latest !== undefined && latest > since ? latest : undefined
}

function iterationStart (timezone: string, after: number): number {
  const offsetChanged = utcOffsetMinutes(timezone, after - DST_SETTLE_MS) !== utcOffsetMinutes(timezone, after)
  return offsetChanged ? after - DST_SETTLE_MS : after
}

function step (iterator: CronExpression): number | undefined {
  try {
    return iterator.next().getTime()
  } catch {
    return undefined // past the end of time cron-parser handles
  }
}

function expressionShapeProblem (expression: string): string | null {
  if (typeof expression !== 'string' || expression.trim().length === 0) return 'a schedule is a non-empty cron expression'
  const trimmed = expression.trim()
  if (trimmed.startsWith('@')) {
    return ALIASES.has(trimmed.toLowerCase()) ? null : `${JSON.stringify(trimmed)} is not a schedule alias; use one of ${[...ALIASES].join(', ')}`
  }
  const fields = trimmed.split(/\s+/)
  if (fields.length !== CRON_FIELDS) {
    return `expected ${CRON_FIELDS} fields (minute hour day-of-month month day-of-week), got ${fields.length} in ${JSON.stringify(expression)}`
  }
  return null
}
