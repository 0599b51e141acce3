import { EnvFileError } from '../errors/index.js'

// The dotenv format as `roost secret create --from-env-file` reads it: KEY=VALUE
// lines, blank lines, `#` comments (whole lines, or after an unquoted value and a
// space), an optional `export ` before the key, and values in double quotes (with
// \n, \t, \" and \\ escapes) or single quotes (taken as they are). A value does not
// span lines: a file that seems to is refused with its line rather than misread.
// Errors never quote a value, which may be the secret itself.

const KEY = /^[A-Za-z_][A-Za-z0-9_]*$/
const ESCAPES: Record<string, string> = { n: '\n', r: '\r', t: '\t', '"': '"', '\\': '\\' }

/** The pairs of a dotenv text, in file order; a key given twice keeps its last value. */
export function parseDotenv (text: string, file: string): Array<[string, string]> {
  const pairs = new Map<string, string>()
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/)
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    const at = { file, line: index + 1 }
    const body = line.startsWith('export ') ? line.slice('export '.length).trimStart() : line
    const equals = body.indexOf('=')
    if (equals < 0) throw new EnvFileError('expected KEY=VALUE: the line has no "="', at)
    const key = body.slice(0, equals).trim()
    if (!KEY.test(key)) throw new EnvFileError(`${JSON.stringify(truncated(key))} is not a valid key: use letters, digits and "_", not starting with a digit`, at)
    pairs.delete(key) // a repeated key moves to its last place
    pairs.set(key, parseValue(body.slice(equals + 1).trim(), at))
  }
  return [...pairs]
}

function parseValue (text: string, at: { file: string, line: number }): string {
  const quote = text[0]
  if (quote !== '"' && quote !== "'") {
    const comment = text.search(/\s#/)
    return (comment < 0 ? text : text.slice(0, comment)).trimEnd()
  }
  let value = ''
  for (let i = 1; i < text.length; i++) {
    const char = text[i]
    if (char === quote) {
      const rest = text.slice(i + 1).trim()
      if (rest !== '' && !rest.startsWith('#')) throw new EnvFileError(`text after the closing ${quote} (quote the whole value)`, at)
      return value
    }
    if (quote === '"' && char === '\\' && i + 1 < text.length) {
      const next = text[++i]
      value += ESCAPES[next] ?? `\\${next}`
      continue
    }
    value += char
  }
  throw new EnvFileError(`the value opened with ${quote} is not closed on this line (a value does not span lines; write \\n in double quotes)`, at)
}

function truncated (text: string): string {
  return text.length > 40 ? `${text.slice(0, 40)}…` : text
}
