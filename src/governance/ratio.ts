// A share as the sources write it: "60%" (OpenSergo's CRD) or a number in [0, 1] (its proto).

import { show, type Report } from './durations.js'

const PERCENT = /^(\d{1,3}(?:\.\d+)?)%$/

export function parseRatio (value: unknown, field: string, report: Report): number | undefined {
  if (typeof value === 'number' && value >= 0 && value <= 1) return value
  const match = typeof value === 'string' ? PERCENT.exec(value) : null
  const percent = match === null ? NaN : Number(match[1])
  if (percent >= 0 && percent <= 100) return percent / 100
  const hint = typeof value === 'number' && value > 1 && value <= 100 ? `; for ${value} percent write "${value}%" or ${value / 100}` : ''
  report(field, `expected a percentage such as "60%" or a number from 0 to 1, got ${show(value)}${hint}`)
  return undefined
}

export function formatRatio (ratio: number): string {
  return `${Math.round(ratio * 10_000) / 100}%`
}
