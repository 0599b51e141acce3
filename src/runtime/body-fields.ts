import { EventBodyError } from './event-body-error.js'

// Checks of the fields of a delivery's JSON body; `at` is the field's path as the 400 names it.

export function objectAt (value: unknown, at: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new EventBodyError(at === '' ? 'the body must be a JSON object' : `${at} must be an object`, at === '' ? undefined : at)
  }
  return value as Record<string, unknown>
}

export function textAt (value: unknown, at: string): string {
  if (typeof value !== 'string' || value.length === 0) throw new EventBodyError(`${at} must be a non-empty string`, at)
  return value
}

export function timeAt (value: unknown, at: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new EventBodyError(`${at} must be a time in epoch milliseconds`, at)
  return value
}

export function countAt (value: unknown, at: string): number {
  if (!Number.isSafeInteger(value) || (value as number) < 1) throw new EventBodyError(`${at} must be a whole number of at least 1`, at)
  return value as number
}

export function attributesAt (value: unknown, at: string): Record<string, string> {
  const raw = objectAt(value, at)
  for (const name in raw) {
    if (typeof raw[name] !== 'string') throw new EventBodyError(`${at}.${name} must be a string`, `${at}.${name}`)
  }
  return raw as Record<string, string>
}
