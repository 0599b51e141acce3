// The checks `promtool check metrics` makes, in code: the text format parsed
// strictly (HELP and TYPE well-formed, once per family and before its samples,
// a family's samples together) and promlint's naming rules (counters end in
// _total and nothing else does, base units, no abbreviated units, no type in
// the name, snake_case, no colons, the names histograms and summaries reserve).

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y
// As Go's ParseFloat reads it (promtool's parser): Inf and NaN in any case.
const VALUE = /^(?:[+-]?(?:\d+\.?\d*(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)|[+-]?inf(?:inity)?|nan)$/i
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])
const CAMEL = /[a-z][A-Z]/
// promlint: units that have a base unit, and the base unit to use.
const NON_BASE_UNITS: Record<string, string> = {
  minutes: 'seconds', hours: 'seconds', days: 'seconds', weeks: 'seconds', milliseconds: 'seconds', microseconds: 'seconds', nanoseconds: 'seconds',
  kilobytes: 'bytes', megabytes: 'bytes', gigabytes: 'bytes', terabytes: 'bytes', petabytes: 'bytes', bits: 'bytes',
  celsius: 'celsius', fahrenheit: 'celsius', grams: 'grams', kilometers: 'meters', millimeters: 'meters', centimeters: 'meters', kilograms: 'grams'
}
const ABBREVIATED_UNITS = new Set(['s', 'ms', 'us', 'ns', 'sec', 'b', 'kb', 'mb', 'gb', 'tb', 'pb', 'm', 'h', 'd'])
const TYPE_WORDS = ['counter', 'gauge', 'histogram', 'summary', 'untyped']

interface Family {
  name: string
  type: string
  help: string | null
  typed: boolean
  samples: number
}

/** Every problem promtool would report for this exposition; empty when it passes. */
export function checkExposition (text: string): string[] {
  const problems: string[] = []
  const families = new Map<string, Family>()
  const closed = new Set<string>()
  let current: string | null = null
  const family = (name: string, line: number): Family => {
    let found = families.get(name)
    if (found === undefined) {
      found = { name, type: 'untyped', help: null, typed: false, samples: 0 }
      families.set(name, found)
    } else if (current !== name && closed.has(name)) {
      problems.push(`line ${line}: ${name}: its lines are not together`)
    }
    if (current !== null && current !== name) closed.add(current)
    current = name
    return found
  }
  if (text.length > 0 && !text.endsWith('\n')) problems.push('the exposition does not end with a line feed')
  const lines = text.split('\n')
  if (lines.at(-1) === '') lines.pop()
  lines.forEach((line, index) => {
    const number = index + 1
    if (line.startsWith('#')) {
      const meta = /^# (HELP|TYPE) (\S+)(?: (.*))?$/.exec(line)
      if (meta === null) return
      const [, kind, name, rest = ''] = meta
      if (!NAME.test(name)) problems.push(`line ${number}: "${name}" is not a metric name`)
      const fam = family(name, number)
      if (kind === 'HELP') {
        if (fam.help !== null) problems.push(`line ${number}: second HELP for ${name}`)
        if (/\\(?![\\n])/.test(rest)) problems.push(`line ${number}: HELP of ${name} has an invalid escape`)
        fam.help = rest
      } else {
        if (fam.typed) problems.push(`line ${number}: second TYPE for ${name}`)
        if (fam.samples > 0) problems.push(`line ${number}: TYPE of ${name} after its samples`)
        if (!TYPES.has(rest)) problems.push(`line ${number}: "${rest}" is not a metric type`)
        fam.type = rest
        fam.typed = true
      }
      return
    }
    // The parser skips blank lines (prom-client writes one between families).
    if (line.trim() === '') return
    const match = SAMPLE.exec(line)
    if (match === null) {
      problems.push(`line ${number}: not a sample: ${JSON.stringify(line)}`)
      return
    }
    const [, name, labels = '', value] = match
    if (!VALUE.test(value)) problems.push(`line ${number}: "${value}" is not a sample value`)
    const labelNames = parseLabels(labels, number, problems)
    const base = familyOf(name, families)
    const fam = family(base, number)
    fam.samples++
    checkSampleName(fam, name, labelNames, number, problems)
  })
  for (const fam of families.values()) problems.push(...lintFamily(fam))
  return problems
}

function parseLabels (body: string, line: number, problems: string[]): string[] {
  const names: string[] = []
  LABEL.lastIndex = 0
  while (LABEL.lastIndex < body.length) {
    const start = LABEL.lastIndex
    const label = LABEL.exec(body)
    if (label === null) {
      problems.push(`line ${line}: bad labels at ${start} of ${JSON.stringify(body)}`)
      return names
    }
    if (names.includes(label[1])) problems.push(`line ${line}: label ${label[1]} twice`)
    if (label[1].startsWith('__')) problems.push(`line ${line}: label ${label[1]} is reserved`)
    names.push(label[1])
  }
  return names
}

/** The family a sample belongs to: histogram and summary samples carry suffixes. */
function familyOf (name: string, families: Map<string, Family>): string {
  for (const suffix of ['_bucket', '_sum', '_count']) {
    if (!name.endsWith(suffix)) continue
    const base = name.slice(0, -suffix.length)
    const type = families.get(base)?.type
    if (type === 'histogram' || (type === 'summary' && suffix !== '_bucket')) return base
  }
  return name
}

function checkSampleName (fam: Family, name: string, labels: string[], line: number, problems: string[]): void {
  if (fam.type === 'histogram') {
    if (name === fam.name) problems.push(`line ${line}: histogram ${fam.name} has a sample without _bucket, _sum or _count`)
    if (name.endsWith('_bucket') && !labels.includes('le')) problems.push(`line ${line}: bucket of ${fam.name} without le`)
  } else if (fam.type !== 'summary' && labels.includes('le')) {
    problems.push(`line ${line}: non-histogram ${fam.name} has a label "le"`)
  }
  if (fam.type !== 'summary' && fam.type !== 'histogram' && labels.includes('quantile')) problems.push(`line ${line}: non-summary ${fam.name} has a label "quantile"`)
  for (const label of labels) if (CAMEL.test(label) || !LABEL_NAME.test(label)) problems.push(`line ${line}: label name "${label}" should be snake_case`)
}

function lintFamily (fam: Family): string[] {
  const problems: string[] = []
  const { name, type } = fam
  if (fam.help === null || fam.help === '') problems.push(`${name} no help text`)
  if (type === 'counter' && !name.endsWith('_total')) problems.push(`${name} counter metrics should have "_total" suffix`)
  if (type !== 'counter' && name.endsWith('_total')) problems.push(`${name} non-counter metrics should not have "_total" suffix`)
  if (type !== 'histogram' && name.endsWith('_bucket')) problems.push(`${name} non-histogram metrics should not have "_bucket" suffix`)
  if (type !== 'histogram' && type !== 'summary' && (name.endsWith('_count') || name.endsWith('_sum'))) problems.push(`${name} non-histogram and non-summary metrics should not have "_count" or "_sum" suffix`)
  if (name.includes(':')) problems.push(`${name} metric names should not contain ':'`)
  if (CAMEL.test(name)) problems.push(`${name} metric names should be written in 'snake_case' not 'camelCase'`)
  const words = name.toLowerCase().split('_')
  for (const word of words) {
    const base = NON_BASE_UNITS[word]
    if (base !== undefined && base !== word) problems.push(`${name} use base unit "${base}" instead of "${word}"`)
    if (ABBREVIATED_UNITS.has(word)) problems.push(`${name} metric names should not contain abbreviated units`)
  }
  for (const typeWord of TYPE_WORDS) if (words.includes(typeWord)) problems.push(`${name} metric name should not include type '${typeWord}'`)
  return problems
}
