// Checks of `spec.scale.schedule` that a JSON Schema cannot express: the cron
// expression parses, the time zone exists, the raised floor fits under max.
import { CronExpressionParser } from 'cron-parser'
import type { FieldProblem } from '../errors/index.js'

const CRON_FIELDS = 5

export function cronProblem (expression: string): string | null {
  const fields = expression.trim().split(/\s+/)
  if (fields.length !== CRON_FIELDS) {
    return `expected ${CRON_FIELDS} fields (minute hour day-of-month month day-of-week), got ${fields.length} in ${JSON.stringify(expression)}`
  }
  try {
    CronExpressionParser.parse(expression, { tz: 'UTC' })
    return null
  } catch (err) {
    return `${JSON.stringify(expression)} is not a cron expression: ${(err as Error).message}`
  }
}

export function isTimeZone (name: string): boolean {
  try {
    // Throws a RangeError for a name the runtime's ICU data does not know.
    Intl.DateTimeFormat('en-US', { timeZone: name })
    return true
  } catch {
    return false
  }
}

type Doc = Record<string, unknown>

export function scheduleProblems (schedule: unknown, max: number): FieldProblem[] {
  if (!Array.isArray(schedule)) return []
  const problems: FieldProblem[] = []
  schedule.forEach((entry: unknown, i) => {
    if (typeof entry !== 'object' || entry === null) return
    const { cron, timezone, min } = entry as Doc
    const field = `spec.scale.schedule[${i}]`
    if (typeof cron === 'string' && cron.length > 0) {
      const problem = cronProblem(cron)
      if (problem !== null) problems.push({ field: `${field}.cron`, message: problem })
    }
    if (typeof timezone === 'string' && timezone.length > 0 && !isTimeZone(timezone)) {
      problems.push({ field: `${field}.timezone`, message: `${JSON.stringify(timezone)} is not an IANA time zone (e.g. "UTC", "Europe/Paris", "America/New_York")` })
    }
    if (Number.isInteger(min) && (min as number) > max) {
      problems.push({ field: `${field}.min`, message: `${String(min)} is more than spec.scale.max (${max})` })
    }
  })
  return problems
}
