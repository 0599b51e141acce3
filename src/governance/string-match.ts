// OpenSergo's StringMatch (exact, prefix or regex) for lanes. A regex runs on
// every request against what the caller sent, so it is bounded in length and
// refused when a quantified group is quantified again (`(a+)+`): JavaScript's
// backtracking engine can take exponential time on such a pattern.

import { GOVERNANCE_BOUNDS } from './defaults.js'
import { show, type Report } from './durations.js'
import type { StringMatch } from './policy.js'
import type { StringMatchSpec } from './rule-kinds.js'

const NESTED_QUANTIFIER = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{]/

export function parseStringMatch (value: StringMatchSpec | undefined, field: string, report: Report): StringMatch | undefined {
  const given = (['exact', 'prefix', 'regex'] as const).filter((k) => value?.[k] !== undefined)
  if (value === undefined || given.length !== 1) {
    report(field, given.length === 0 ? 'give one of exact, prefix or regex' : `give one of exact, prefix or regex, not ${given.join(' and ')}`)
    return undefined
  }
  if (value.exact !== undefined) return { exact: String(value.exact) }
  if (value.prefix !== undefined) return { prefix: value.prefix }
  const regex = value.regex as string
  if (regex.length > GOVERNANCE_BOUNDS.regexLength) {
    report(`${field}.regex`, `a regex is at most ${GOVERNANCE_BOUNDS.regexLength} characters, got ${regex.length}`)
    return undefined
  }
  try {
    new RegExp(regex) // eslint-disable-line no-new
  } catch (err) {
    report(`${field}.regex`, `${show(regex)} is not a regular expression: ${(err as Error).message}`)
    return undefined
  }
  if (NESTED_QUANTIFIER.test(regex)) {
    report(`${field}.regex`, `${show(regex)} repeats a repeated group, which can take exponential time on a crafted request; write it without the nested quantifier`)
    return undefined
  }
  return { regex }
}

/** A map of name → StringMatch as written, to the policy's list; header names lower-cased. */
export function parseNamedMatches (
  map: Record<string, StringMatchSpec> | undefined,
  field: string,
  report: Report,
  options: { lowerCase?: boolean } = {}
): Array<{ name: string, match: StringMatch }> {
  const result: Array<{ name: string, match: StringMatch }> = []
  for (const [name, spec] of Object.entries(map ?? {})) {
    const match = parseStringMatch(spec, appendKey(field, name), report)
    if (match !== undefined) result.push({ name: options.lowerCase === true ? name.toLowerCase() : name, match })
  }
  return result
}

export function formatStringMatch (match: StringMatch): string {
  if ('exact' in match) return `= ${JSON.stringify(match.exact)}`
  if ('prefix' in match) return `^= ${JSON.stringify(match.prefix)}`
  return `~ /${match.regex}/`
}

/** `spec.headers` + `X-User` → `spec.headers["X-User"]`, as validation names fields. */
export function appendKey (path: string, key: string): string {
  if (!/^[A-Za-z_$][\w$-]*$/.test(key)) return `${path}[${JSON.stringify(key)}]`
  return path === '' ? key : `${path}.${key}`
}
