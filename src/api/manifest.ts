// Manifest files: one or more YAML documents (JSON is YAML too), parsed into plain
// values for validate.ts. Parsing is bounded and never throws anything but ManifestParseError.

import { CST, isMap, isPair, isScalar, isSeq, Lexer, LineCounter, parseAllDocuments, type Document, type Node, type YAMLError } from 'yaml'
import { ManifestParseError } from '../errors/index.js'

export const MAX_MANIFEST_BYTES = 1024 * 1024
// Manifests are a handful of levels deep. The yaml composer recurses per level, and near
// the end of the stack V8 can abort the whole process (not throw), so depth is capped
// before composing.
export const MAX_MANIFEST_DEPTH = 128

export interface ManifestDocument {
  // 0-based position among the non-empty documents of the text.
  index: number
  // 1-based line of the document's first content (after any `---` and comments).
  line: number
  doc: unknown
}

// The YAML of each parsed document, so that a field's problem can be pointed at where it is written.
const sources = new WeakMap<ManifestDocument, { document: Document, lines: LineCounter }>()

export function parseManifests (text: string, file?: string): ManifestDocument[] {
  // text.length ≤ bytes, so the cheap test first spares encoding most texts.
  if (text.length > MAX_MANIFEST_BYTES || Buffer.byteLength(text, 'utf8') > MAX_MANIFEST_BYTES) {
    throw new ManifestParseError('manifest is larger than 1 MiB', { file })
  }
  checkNesting(text, file)
  const lines = new LineCounter()
  const documents = parseYaml(text, lines, file)
  const result: ManifestDocument[] = []
  for (const document of documents) {
    const doc = toValue(document, file)
    if (doc === null || doc === undefined) continue // empty documents, such as after a trailing `---`
    const { line } = positionOf(lines, document.contents?.range?.[0] ?? document.range?.[0] ?? 0)
    // Judged on the YAML node: a tagged scalar such as !!binary becomes an object in JS.
    if (!isMap(document.contents)) {
      const got = isSeq(document.contents) ? 'a list' : typeof doc === 'object' ? 'a tagged value' : `a ${typeof doc}`
      throw new ManifestParseError(`expected a mapping (apiVersion, kind, metadata, spec), got ${got}`, { file, line })
    }
    const parsed: ManifestDocument = { index: result.length, line, doc }
    sources.set(parsed, { document, lines })
    result.push(parsed)
  }
  return result
}

/**
 * The 1-based line and column where a field of a parsed document is written,
 * given as validation names it (`spec.scale.max`, `spec.traffic[1].percent`,
 * `metadata.labels["app/x"]`): its key, or for a list entry the entry. A field
 * that is missing points at the nearest enclosing one that is there.
 */
export function locateField (parsed: ManifestDocument, field: string): { line: number, column: number } {
  const source = sources.get(parsed)
  if (source === undefined) return { line: parsed.line, column: 1 }
  let node: unknown = source.document.contents
  let offset = (node as Node | null)?.range?.[0]
  for (const segment of fieldSegments(field)) {
    if (isMap(node)) {
      const pair = node.items.find((item) => isPair(item) && isScalar(item.key) && String(item.key.value) === String(segment))
      if (pair === undefined) break
      offset = (pair.key as Node).range?.[0] ?? offset
      node = pair.value
    } else if (isSeq(node) && typeof segment === 'number' && segment < node.items.length) {
      node = node.items[segment]
      offset = (node as Node | null)?.range?.[0] ?? offset
    } else {
      break
    }
  }
  return offset === undefined ? { line: parsed.line, column: 1 } : positionOf(source.lines, offset)
}

// 'spec.traffic[1].percent' → ['spec', 'traffic', 1, 'percent']; 'env["A-B"]' → ['env', 'A-B'].
function fieldSegments (field: string): Array<string | number> {
  const segments: Array<string | number> = []
  const token = /(?:^|\.)([A-Za-z_$][\w$-]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/y
  while (token.lastIndex < field.length) {
    const match = token.exec(field)
    if (match === null) break
    if (match[1] !== undefined) segments.push(match[1])
    else if (match[2] !== undefined) segments.push(Number(match[2]))
    else segments.push(JSON.parse(match[3] as string) as string)
  }
  return segments
}

function parseYaml (text: string, lines: LineCounter, file: string | undefined): Document[] {
  // prettyErrors off: its messages repeat the position and quote the source over several lines.
  const documents = guard(() => parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true }), file)
  // An empty stream comes back as an array carrying stream info (and its errors), not as documents.
  const errors = 'empty' in documents ? documents.errors : documents.flatMap((d) => d.errors)
  const first = firstError(errors)
  if (first !== undefined) {
    const position = first.pos === undefined ? {} : positionOf(lines, first.pos[0])
    throw new ManifestParseError(firstLine(first.message), { file, ...position })
  }
  return 'empty' in documents ? [] : documents
}

// Estimates nesting from the lexer's tokens, which come without recursion: open flow
// brackets, plus, in block context, the indentation and the "-", "?" and ":" indicators of
// the line. It over-counts block levels (2 spaces of indentation count 2), which only
// matters far beyond any real manifest. Scalars are skipped, so braces in inline code do not count.
function checkNesting (text: string, file: string | undefined): void {
  let flow = 0
  let block = 0
  let atLineStart = true
  let inScalar = false
  let offset = 0
  for (const token of new Lexer().lex(text)) {
    const type = CST.tokenType(token)
    const synthetic = type === 'doc-mode' || type === 'scalar' || type === 'flow-error-end'
    if (inScalar) {
      inScalar = false // the source of a scalar: content, not structure
    } else if (type === 'scalar') {
      inScalar = true
    } else if (type === 'newline') {
      atLineStart = true
      if (flow === 0) block = 0
    } else if (type === 'space') {
      if (atLineStart && flow === 0) block = token.length
    } else if (type === 'seq-item-ind' || type === 'explicit-key-ind' || type === 'map-value-ind') {
      if (flow === 0) block += 1
    } else if (type === 'flow-map-start' || type === 'flow-seq-start') {
      flow += 1
    } else if (type === 'flow-map-end' || type === 'flow-seq-end') {
      flow = Math.max(0, flow - 1)
    }
    if (type !== 'space' && type !== 'newline' && !synthetic) atLineStart = false
    if (block + flow > MAX_MANIFEST_DEPTH) {
      throw new ManifestParseError(`manifest is nested too deeply (more than ${MAX_MANIFEST_DEPTH} levels)`, { file, ...positionIn(text, offset) })
    }
    if (!synthetic) offset += token.length
  }
}

function positionIn (text: string, offset: number): { line: number, column: number } {
  const before = text.slice(0, offset)
  const lineStart = before.lastIndexOf('\n') + 1
  return { line: before.split('\n').length, column: offset - lineStart + 1 }
}

function toValue (document: Document, file: string | undefined): unknown {
  // toJS enforces maxAliasCount, which stops "billion laughs" alias bombs.
  return guard(() => document.toJS({ maxAliasCount: 100 }) as unknown, file)
}

// The yaml library can throw on pathological input (deep nesting, alias bombs); it must
// reach the caller as a parse error, not as a crash.
function guard<T> (parse: () => T, file: string | undefined): T {
  try {
    return parse()
  } catch (err) {
    const message = err instanceof RangeError ? 'manifest is nested too deeply' : firstLine(err instanceof Error ? err.message : String(err))
    throw new ManifestParseError(message, { file })
  }
}

function firstError (errors: YAMLError[]): YAMLError | undefined {
  let first: YAMLError | undefined
  for (const e of errors) {
    if (first === undefined || (e.pos?.[0] ?? Infinity) < (first.pos?.[0] ?? Infinity)) first = e
  }
  return first
}

// 1-based line and column of an offset into the text.
function positionOf (lines: LineCounter, offset: number): { line: number, column: number } {
  const { line, col } = lines.linePos(offset)
  return { line, column: col }
}

function firstLine (message: string): string {
  return message.split('\n', 1)[0] as string
}

// "function/hello" for messages about a document, whatever state it is in.
export function describeDocument (doc: unknown): string {
  const record = typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? doc as Record<string, unknown> : {}
  const kind = typeof record.kind === 'string' && record.kind !== '' ? record.kind.toLowerCase() : 'resource'
  const metadata = record.metadata
  const name = typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>).name : undefined
  return `${kind}/${typeof name === 'string' && name !== '' ? name : '(unnamed)'}`
}
