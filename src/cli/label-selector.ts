import { UsageError } from '../errors/index.js'

// Kubernetes label selectors (`-l`): requirements joined by commas, all of
// which must hold: `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`.

export type Requirement =
  | { key: string, op: 'in' | 'notin', values: string[] }
  | { key: string, op: 'exists' | 'absent' }

export interface LabelSelector {
  requirements: Requirement[]
  matches (labels: Record<string, string>): boolean
}

const KEY = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?\/)?[a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?$/
const VALUE = /^([a-z0-9A-Z]([-a-z0-9A-Z_.]*[a-z0-9A-Z])?)?$/

export function parseLabelSelector (text: string): LabelSelector {
  const requirements = splitTop(text).map((part) => parseRequirement(text, part.trim()))
  return { requirements, matches: (labels) => requirements.every((r) => holds(r, labels)) }
}

function fail (selector: string, why: string): never {
  throw new UsageError(`label selector "${selector}": ${why}`, { hint: 'e.g. -l app=web, -l \'tier!=db\', -l \'env in (prod,staging)\', -l app,!legacy' })
}

/** Splits at the commas that are not inside `( … )`. */
function splitTop (text: string): string[] {
  const parts: string[] = []
  let depth = 0
  let start = 0
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '(') depth++
    else if (text[i] === ')') depth--
    else if (text[i] === ',' && depth === 0) {
      parts.push(text.slice(start, i))
      start = i + 1
    }
  }
  parts.push(text.slice(start))
  return parts
}

function parseRequirement (selector: string, part: string): Requirement {
  if (part === '') fail(selector, 'an empty requirement (two commas, or a comma at an end)')
  const set = /^(\S+)\s+(in|notin)\s*\((.*)\)$/.exec(part)
  if (set !== null) {
    const values = set[3].split(',').map((v) => v.trim())
    if (values.length === 0 || values.some((v) => v === '')) fail(selector, `"${part}" needs values: ${set[2]} (a,b)`)
    return { key: checkKey(selector, set[1]), op: set[2] as 'in' | 'notin', values: values.map((v) => checkValue(selector, v)) }
  }
  const equality = /^([^=!\s]+)\s*(==|=|!=)\s*(.*)$/.exec(part)
  if (equality !== null) {
    const value = checkValue(selector, equality[3].trim())
    return { key: checkKey(selector, equality[1]), op: equality[2] === '!=' ? 'notin' : 'in', values: [value] }
  }
  if (part.startsWith('!')) return { key: checkKey(selector, part.slice(1).trim()), op: 'absent' }
  return { key: checkKey(selector, part), op: 'exists' }
}

function checkKey (selector: string, key: string): string {
  if (key.length > 253 || !KEY.test(key)) fail(selector, `"${key}" is not a label key`)
  return key
}

function checkValue (selector: string, value: string): string {
  if (value.length > 63 || !VALUE.test(value)) fail(selector, `"${value}" is not a label value`)
  return value
}

function holds (requirement: Requirement, labels: Record<string, string>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, requirement.key)
  switch (requirement.op) {
    case 'exists': return has
    case 'absent': return !has
    case 'in': return has && requirement.values.includes(labels[requirement.key])
    // As in Kubernetes: `k!=v` and `k notin (…)` also match objects without the label.
    case 'notin': return !has || !requirement.values.includes(labels[requirement.key])
  }
}
