// Durations as the two dialects write them, to milliseconds. OpenSergo's CRD
// pattern is `\d+(s|ms|m|min|minute|h|d)`; its `m` is refused because it reads
// as minutes to some (Go, Kubernetes) and as the SI prefix milli to others,
// and a limit off by a factor of 60,000 fails silently. A Function's own
// manifest has always written minutes as `m` (timeout: 15m) and has no `min`,
// so spec.governance keeps the Function's dialect.

import type { TimeUnitName } from './rule-kinds.js'

export type Report = (field: string, message: string) => void

const OPENSERGO_UNITS: Record<string, number> = { ms: 1, s: 1_000, min: 60_000, minute: 60_000, h: 3_600_000, d: 86_400_000 }
const ROOST_UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }
const TIME_UNIT_MS: Record<TimeUnitName, number> = { MILLISECOND: 1, SECOND: 1_000, MINUTE: 60_000, HOUR: 3_600_000, DAY: 86_400_000 }

export const OPENSERGO_DURATION_PATTERN = '^\\d+(ms|s|m|min|minute|h|d)$'
const opensergoRe = /^(\d+)(ms|s|m|min|minute|h|d)$/
const roostRe = /^(\d+)(ms|s|m|h)$/

/** The longest duration a rule takes: a day. Longer windows belong to quotas, which these are not. */
export const MAX_RULE_DURATION_MS = 86_400_000

/** "5s", "500ms", "2min", "1h", "1d" → ms; undefined (and a report) for anything else, "5m" included. */
export function opensergoDuration (value: unknown, field: string, report: Report, options: { allowZero?: boolean } = {}): number | undefined {
  const match = typeof value === 'string' ? opensergoRe.exec(value) : null
  if (match === null) {
    report(field, `expected a duration such as "1s", "500ms", "5min", "1h" or "1d", got ${show(value)}`)
    return undefined
  }
  const [, amount, unit] = match as unknown as [string, string, string]
  if (unit === 'm') {
    report(field, `"${value as string}" is ambiguous: "m" means minutes to some readers and milli to others; write "${amount}min" for minutes or "${amount}ms" for milliseconds`)
    return undefined
  }
  return inRange(Number(amount) * (OPENSERGO_UNITS[unit] as number), value, field, report, options)
}

/** A Function's dialect: "30s", "500ms", "5m" (minutes), "1h" → ms. */
export function roostDuration (value: unknown, field: string, report: Report, options: { allowZero?: boolean } = {}): number | undefined {
  const match = typeof value === 'string' ? roostRe.exec(value) : null
  if (match === null) {
    report(field, `expected a duration such as "1s", "500ms" or "5m", got ${show(value)}`)
    return undefined
  }
  const [, amount, unit] = match as unknown as [string, string, string]
  return inRange(Number(amount) * (ROOST_UNITS[unit] as number), value, field, report, options)
}

/** The proto's integer and TimeUnit → ms. */
export function unitDuration (amount: number, unit: TimeUnitName, field: string, report: Report): number | undefined {
  return inRange(amount * TIME_UNIT_MS[unit], `${amount} ${unit}`, field, report, {})
}

function inRange (ms: number, written: unknown, field: string, report: Report, options: { allowZero?: boolean }): number | undefined {
  if (ms === 0 && options.allowZero !== true) {
    report(field, `expected a duration above zero, got ${show(written)}`)
    return undefined
  }
  if (ms > MAX_RULE_DURATION_MS) {
    report(field, `expected a duration of at most a day, got ${show(written)}`)
    return undefined
  }
  return ms
}

/** 1000 → "1s", 90000 → "90s", 60000 → "1min": for messages and summaries. */
export function formatMs (ms: number): string {
  for (const [unit, size] of [['d', 86_400_000], ['h', 3_600_000], ['min', 60_000], ['s', 1_000]] as const) {
    if (ms !== 0 && ms % size === 0) return `${ms / size}${unit}`
  }
  return `${ms}ms`
}

/** A value as it appears after "got": short, and for containers their shape only. */
export function show (value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)
  if (value === null) return 'null'
  if (value === undefined) return 'nothing'
  if (Array.isArray(value)) return value.length === 1 ? 'a list of 1 entry' : `a list of ${value.length} entries`
  if (typeof value === 'object') return 'a mapping'
  return String(value)
}
