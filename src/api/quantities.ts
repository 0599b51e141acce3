// Durations ("30s") and memory sizes ("128Mi") as they are written in manifests.
// The patterns live here so that the schema and the parsers can never disagree.

import { ValidationError } from '../errors/index.js'

export const DURATION_PATTERN = '^\\d+(ms|s|m|h)$'
export const MEMORY_PATTERN = '^\\d+(Mi|Gi)$'

const durationUnitsMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }
const memoryUnitsMiB: Record<string, number> = { Mi: 1, Gi: 1024 }

const durationRe = new RegExp(DURATION_PATTERN)
const memoryRe = new RegExp(MEMORY_PATTERN)

// '30s' → 30000. Throws ValidationError (field '') for anything that is not a duration.
export function parseDuration (s: string): number {
  const match = durationRe.exec(s)
  if (match === null) throw quantityError(`expected a duration such as "30s" or "500ms", got ${JSON.stringify(s)}`)
  return amountOf(s, match[1] as string) * (durationUnitsMs[match[1] as string] as number)
}

// '1Gi' → 1024. Throws ValidationError (field '') for anything that is not a memory size.
export function parseMemory (s: string): number {
  const match = memoryRe.exec(s)
  if (match === null) throw quantityError(`expected a memory size such as "128Mi" or "1Gi", got ${JSON.stringify(s)}`)
  return amountOf(s, match[1] as string) * (memoryUnitsMiB[match[1] as string] as number)
}

// 60000 → '1m', 90000 → '90s', 1500 → '1500ms': the largest unit that loses nothing,
// so that formatDuration(parseDuration(x)) reads like something a person would write.
export function formatDuration (ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`cannot format ${ms} as a duration`)
  const whole = Math.round(ms)
  for (const unit of ['h', 'm', 's'] as const) {
    const size = durationUnitsMs[unit] as number
    if (whole !== 0 && whole % size === 0) return `${whole / size}${unit}`
  }
  return `${whole}ms`
}

function amountOf (s: string, unit: string): number {
  return Number(s.slice(0, s.length - unit.length))
}

function quantityError (message: string): ValidationError {
  return new ValidationError([{ field: '', message }])
}
