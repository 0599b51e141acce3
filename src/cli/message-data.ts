import { readFileSync } from 'node:fs'
import { UsageError } from '../errors/index.js'

// What `roost publish --data` sends as a message body: the text as JSON when
// it is JSON (an object, a list, a number…), else as text; @FILE the file's
// contents, JSON for a .json file, text when it is UTF-8, bytes otherwise.

export interface MessageData {
  body: unknown
  bodyType: 'json' | 'text' | 'bytes'
}

const STRICT_UTF8 = new TextDecoder('utf-8', { fatal: true })

export function messageData (data: string, options: { text?: boolean } = {}): MessageData {
  if (!data.startsWith('@')) return options.text === true ? { body: data, bodyType: 'text' } : fromText(data)
  const path = data.slice(1)
  let bytes: Buffer
  try {
    bytes = readFileSync(path)
  } catch (err) {
    throw new UsageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { hint: '--data @FILE sends the contents of FILE' })
  }
  let text: string
  try {
    text = STRICT_UTF8.decode(bytes)
  } catch {
    return { body: bytes.toString('base64'), bodyType: 'bytes' }
  }
  if (options.text === true) return { body: text, bodyType: 'text' }
  if (path.toLowerCase().endsWith('.json')) {
    try {
      return { body: JSON.parse(text) as unknown, bodyType: 'json' }
    } catch (err) {
      throw new UsageError(`${path} is not JSON: ${(err as Error).message}`, { hint: 'fix the file, or pass --text to send it as text' })
    }
  }
  return fromText(text)
}

function fromText (text: string): MessageData {
  try {
    return { body: JSON.parse(text) as unknown, bodyType: 'json' }
  } catch {
    return { body: text, bodyType: 'text' }
  }
}
