// Delays a handler gives (`retry({ delay })`, `ctx.publish(…, { delay })`):
// milliseconds, or a duration written as in manifests ("500ms", "5s", "2m",
// "1h"). The grammar repeats src/api/quantities.ts, which the runtime may not
// import.

const DURATION = /^(\d+)(ms|s|m|h)$/
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/** A delay in whole milliseconds; throws a TypeError naming `what` for anything else. */
export function delayMs (value: unknown, what: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return Math.round(value)
    throw new TypeError(`${what} must be a number of milliseconds of at least 0 or a duration such as "5s", got ${String(value)}`)
  }
  if (typeof value === 'string') {
    const match = DURATION.exec(value)
    if (match !== null) {
      const ms = Number(match[1]) * UNIT_MS[match[2]]
      if (Number.isSafeInteger(ms)) return ms
    }
  }
  throw new TypeError(`${what} must be a number of milliseconds or a duration such as "500ms", "5s", "2m" or "1h", got ${JSON.stringify(value) ?? typeof value}`)
}
