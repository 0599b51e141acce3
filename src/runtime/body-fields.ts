import { EventBodyError } from './event-body-error.js'

// Checks of the fields of a delivery's JSON body; `at` is the field's path as the 400 names it.

export function objectAt (value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EventBodyError(at === '' ? 'the body must be a JSON object' : `${at} must be an object`, at === '' ? undefined : at)
  }
  return value as Record<string, unknown>
}

// What each check says of a field that fails it, after the field's path.
export const NOT_TEXT = 'must be a non-empty string'
export const NOT_TIME = 'must be a time in epoch milliseconds'
export const NOT_COUNT = 'must be a whole number of at least 1'

export function isText (value: unknown): value is string {
  return typeof value === 'string' && value.length > 0
}

export function isTime (value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value)
}

export function isCount (value: unknown): value is number {
  return Number.isSafeInteger(value) && (value as number) >= 1
}

export function textAt (value: unknown, at: string): string {
  if (!isText(value)) throw new EventBodyError(`${at} ${NOT_TEXT}`, at)
  return value
}

export function timeAt (value: unknown, at: string): number {
  if (!isTime(value)) throw new EventBodyError(`${at} ${NOT_TIME}`, at)
  return value
}

export function countAt (value: unknown, at: string): number {
  if (!isCount(value)) throw new EventBodyError(`${at} ${NOT_COUNT}`, at)
  return value
}

export function attributesAt (value: unknown, at: string): Record<string, string> {
  const raw = objectAt(value, at)
  for (const name in raw) {
    if (typeof raw[name] !== 'string') throw new EventBodyError(`${at}.${name} must be a string`, `${at}.${name}`)
  }
  return raw as Record<string, string>
}
