// IANA time zones as the runtime's ICU data knows them. Intl.supportedValuesOf
// lists canonical names only (not "UTC", not links such as "Europe/Kiev"), so
// a name is checked by letting DateTimeFormat accept or refuse it.

const offsetFormats = new Map<string, Intl.DateTimeFormat>()

/** The zone's canonical spelling ("europe/paris" → "Europe/Paris"), or undefined when there is no such zone. */
export function canonicalTimeZone (name: string): string | undefined {
  if (typeof name !== 'string' || name.length === 0) return undefined
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone
  } catch {
    return undefined
  }
}

/** The zone's offset from UTC at an instant, in minutes (Europe/Paris in summer: 120). */
export function utcOffsetMinutes (timeZone: string, instant: number): number {
  let format = offsetFormats.get(timeZone)
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' })
    offsetFormats.set(timeZone, format)
  }
  const name = format.formatToParts(instant).find((part) => part.type === 'timeZoneName')?.value ?? 'GMT'
  const match = /^GMT([+-])(\d{2}):(\d{2})$/.exec(name)
  if (match === null) return 0 // "GMT" itself
  const minutes = Number(match[2]) * 60 + Number(match[3])
  return match[1] === '-' ? -minutes : minutes
}
