import { UsageError } from '../errors/index.js'

// kubectl's JSONPath templates (`-o jsonpath=…`): text with `{…}` expressions.
// Supported: `{.a.b}`, `{.items[*].metadata.name}`, `[n]` and `[-n]`, `['key']`,
// `.*`, `..key` (recursive descent), `[?(@.a=="x")]` filters (==, !=, or bare
// existence), `{range EXPR}…{end}`, `{@}` and string literals such as `{"\n"}`.

type Step =
  | { kind: 'field', name: string }
  | { kind: 'index', index: number }
  | { kind: 'wildcard' }
  | { kind: 'descend', name: string }
  | { kind: 'filter', path: Step[], op: '==' | '!=' | 'exists', value?: unknown }

type Node =
  | { kind: 'text', text: string }
  | { kind: 'path', steps: Step[] }
  | { kind: 'range', steps: Step[], body: Node[] }

export interface JsonPathTemplate {
  /** The text the template makes of `data`. */
  render (data: unknown): string
}

export function parseJsonPath (template: string): JsonPathTemplate {
  const nodes = parseTemplate(template)
  return { render: (data) => renderNodes(nodes, data) }
}

function fail (template: string, why: string): never {
  throw new UsageError(`jsonpath template ${JSON.stringify(template)}: ${why}`, { hint: 'e.g. -o jsonpath=\'{.items[*].metadata.name}\' or \'{range .items[*]}{.metadata.name}{"\\n"}{end}\'' })
}

function parseTemplate (template: string): Node[] {
  const root: Node[] = []
  const stack: Node[][] = [root]
  let at = 0
  while (at < template.length) {
    const open = template.indexOf('{', at)
    const current = stack[stack.length - 1]
    if (open === -1) {
      current.push({ kind: 'text', text: template.slice(at) })
      break
    }
    if (open > at) current.push({ kind: 'text', text: template.slice(at, open) })
    const close = closingBrace(template, open)
    const inner = template.slice(open + 1, close).trim()
    at = close + 1
    if (inner === 'end') {
      if (stack.length === 1) fail(template, '{end} without {range}')
      stack.pop()
    } else if (inner.startsWith('range ')) {
      const node: Node = { kind: 'range', steps: parsePath(template, inner.slice(6).trim()), body: [] }
      current.push(node)
      stack.push(node.body)
    } else if (inner.startsWith('"') || inner.startsWith("'")) {
      current.push({ kind: 'text', text: parseString(template, inner) })
    } else {
      current.push({ kind: 'path', steps: parsePath(template, inner) })
    }
  }
  if (stack.length > 1) fail(template, '{range} without {end}')
  return root
}

function closingBrace (template: string, open: number): number {
  let quote: string | undefined
  for (let i = open + 1; i < template.length; i++) {
    const c = template[i]
    if (quote !== undefined) {
      if (c === '\\') i++
      else if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") {
      quote = c
    } else if (c === '}') {
      return i
    }
  }
  return fail(template, `"{" at ${open} is never closed`)
}

function parseString (template: string, literal: string): string {
  const quote = literal[0]
  if (literal.length < 2 || literal[literal.length - 1] !== quote) fail(template, `unterminated string ${literal}`)
  const body = literal.slice(1, -1)
  return body.replace(/\\(.)/g, (_, c: string) => ({ n: '\n', t: '\t', r: '\r' } as Record<string, string>)[c] ?? c)
}

/** `.a.b[0]['c'][*]..d[?(@.x=="y")]`; a leading `$` or `@` names the current object. */
function parsePath (template: string, text: string): Step[] {
  const steps: Step[] = []
  let i = text.startsWith('$') || text.startsWith('@') ? 1 : 0
  if (i === 0 && !text.startsWith('.') && !text.startsWith('[') && text !== '') fail(template, `"${text}" is not a path: paths start with "." (e.g. {.metadata.name})`)
  while (i < text.length) {
    if (text.startsWith('..', i)) {
      const match = /^[\w-]+/.exec(text.slice(i + 2))
      if (match === null) fail(template, `".." must be followed by a field name in "${text}"`)
      steps.push({ kind: 'descend', name: match[0] })
      i += 2 + match[0].length
    } else if (text[i] === '.') {
      if (text[i + 1] === '*') {
        steps.push({ kind: 'wildcard' })
        i += 2
        continue
      }
      const match = /^[\w-]*/.exec(text.slice(i + 1)) as RegExpExecArray
      if (match[0] !== '') steps.push({ kind: 'field', name: match[0] })
      i += 1 + match[0].length
    } else if (text[i] === '[') {
      const end = bracketEnd(template, text, i)
      steps.push(parseBracket(template, text.slice(i + 1, end).trim()))
      i = end + 1
    } else {
      fail(template, `unexpected "${text[i]}" at ${i} in "${text}"`)
    }
  }
  return steps
}

function bracketEnd (template: string, text: string, open: number): number {
  let depth = 0
  let quote: string | undefined
  for (let i = open; i < text.length; i++) {
    const c = text[i]
    if (quote !== undefined) {
      if (c === quote) quote = undefined
    } else if (c === '"' || c === "'") quote = c
    else if (c === '[' || c === '(') depth++
    else if ((c === ']' || c === ')') && --depth === 0) return i
  }
  return fail(template, `"[" is never closed in "${text}"`)
}

function parseBracket (template: string, inner: string): Step {
  if (inner === '*') return { kind: 'wildcard' }
  if (/^-?\d+$/.test(inner)) return { kind: 'index', index: Number(inner) }
  if (/^(['"]).*\1$/.test(inner)) return { kind: 'field', name: inner.slice(1, -1) }
  const filter = /^\?\((.*)\)$/.exec(inner)
  if (filter !== null) return parseFilter(template, filter[1].trim())
  return fail(template, `[${inner}] is not supported: use [n], [*], ['key'] or [?(@.field=="value")]`)
}

function parseFilter (template: string, expression: string): Step {
  const match = /^(@[^=!]*?)\s*(==|!=)\s*(.+)$/.exec(expression)
  if (match === null) {
    if (!expression.startsWith('@')) fail(template, `filter ${expression} must start with @`)
    return { kind: 'filter', path: parsePath(template, expression), op: 'exists' }
  }
  const raw = match[3].trim()
  let value: unknown
  if (/^(['"]).*\1$/.test(raw)) value = raw.slice(1, -1)
  else if (raw === 'true' || raw === 'false') value = raw === 'true'
  else if (raw !== '' && !Number.isNaN(Number(raw))) value = Number(raw)
  else fail(template, `filter value ${raw} must be a quoted string, a number or true/false`)
  return { kind: 'filter', path: parsePath(template, match[1]), op: match[2] as '==' | '!=', value }
}

/** Every value the path selects from `data`, in document order. */
export function select (steps: Step[], data: unknown): unknown[] {
  let values: unknown[] = [data]
  for (const step of steps) values = values.flatMap((value) => apply(step, value))
  return values
}

function apply (step: Step, value: unknown): unknown[] {
  switch (step.kind) {
    case 'field':
      return isRecord(value) && step.name in value ? [value[step.name]] : []
    case 'index': {
      if (!Array.isArray(value)) return []
      const index = step.index < 0 ? value.length + step.index : step.index
      return index >= 0 && index < value.length ? [value[index]] : []
    }
    case 'wildcard':
      return Array.isArray(value) ? value : isRecord(value) ? Object.values(value) : []
    case 'descend':
      return descend(step.name, value)
    case 'filter': {
      const items = Array.isArray(value) ? value : [value]
      return items.filter((item) => matches(step, item))
    }
  }
}

function matches (step: Extract<Step, { kind: 'filter' }>, item: unknown): boolean {
  const found = select(step.path, item)
  if (step.op === 'exists') return found.length > 0 && found[0] !== null && found[0] !== false
  const equal = found.length > 0 && found[0] === step.value
  return step.op === '==' ? equal : !equal
}

function descend (name: string, value: unknown): unknown[] {
  const found: unknown[] = []
  const visit = (node: unknown): void => {
    if (Array.isArray(node)) {
      node.forEach(visit)
    } else if (isRecord(node)) {
      if (name in node) found.push(node[name])
      Object.values(node).forEach(visit)
    }
  }
  visit(value)
  return found
}

function renderNodes (nodes: Node[], data: unknown): string {
  let out = ''
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text
    else if (node.kind === 'path') out += select(node.steps, data).map(format).join(' ')
    else for (const item of rangeItems(select(node.steps, data))) out += renderNodes(node.body, item)
  }
  return out
}

// `{range .items}` walks the elements of the one array it names; `{range .items[*]}` the selected values.
function rangeItems (values: unknown[]): unknown[] {
  return values.length === 1 && Array.isArray(values[0]) ? values[0] : values
}

// As kubectl prints them: strings bare, everything else as JSON.
function format (value: unknown): string {
  if (typeof value === 'string') return value
  if (value === undefined) return ''
  return JSON.stringify(value)
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}
