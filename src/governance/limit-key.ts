// What a limit counts separately, as written (`caller`, `header:X-Tenant`), to a LimitKey.

import { show, type Report } from './durations.js'
import type { LimitKey } from './policy.js'

export const LIMIT_KEY_PATTERN = '^(function|route|caller|ip|header:[!#$%&\'*+.^_`|~0-9A-Za-z-]+|query:[^\\s&=]+)$'
const keyRe = new RegExp(LIMIT_KEY_PATTERN)

export function parseLimitKey (value: unknown, field: string, report: Report): LimitKey | undefined {
  if (typeof value !== 'string' || !keyRe.test(value)) {
    report(field, `expected function, route, caller, ip, header:NAME or query:NAME, got ${show(value)}`)
    return undefined
  }
  if (value.startsWith('header:')) return { by: 'header', name: value.slice('header:'.length).toLowerCase() }
  if (value.startsWith('query:')) return { by: 'query', name: value.slice('query:'.length) }
  return { by: value as 'function' | 'route' | 'caller' | 'ip' }
}

export function formatLimitKey (key: LimitKey): string {
  return key.by === 'header' || key.by === 'query' ? `${key.by}:${key.name}` : key.by
}
