// JSON text written as UTF-8 straight into one growing buffer, for the body
// of a queue delivery. Built as a string (a template per message, then
// TextEncoder) a delivery of a hundred broker messages cost a rope of
// strings per message, a flattening and an encoding, and was the largest
// allocation on the platform thread after the settlements; here a message is
// a few copies into the buffer. Written by hand: JSON.stringify takes values,
// not bytes that are JSON already (a stored body), and gives a string.

const QUOTE = 34
const BACKSLASH = 92
const INITIAL_BYTES = 4096

export class JsonWriter {
  private buf: Buffer
  private at = 0

  constructor (sizeHint = INITIAL_BYTES) {
    this.buf = Buffer.allocUnsafe(Math.max(64, sizeHint))
  }

  /** Bytes that are JSON text already (punctuation, a key with its quotes, a stored JSON body). */
  bytes (bytes: Uint8Array): void {
    this.ensure(bytes.length)
    this.buf.set(bytes, this.at)
    this.at += bytes.length
  }

  /** A string as a JSON string literal, as JSON.stringify writes it. */
  string (text: string): void {
    const length = text.length
    this.ensure(length + 2)
    const buf = this.buf
    const start = this.at
    let at = start
    buf[at++] = QUOTE
    for (let i = 0; i < length; i++) {
      const c = text.charCodeAt(i)
      // Printable ASCII but the quote and the backslash is copied; anything else takes JSON.stringify's escaping.
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) {
        this.at = start
        this.utf8(JSON.stringify(text))
        return
      }
      buf[at++] = c
    }
    buf[at++] = QUOTE
    this.at = at
  }

  /** UTF-8 bytes that are the text of a JSON string's content, written as that string's literal. */
  stringOfUtf8 (bytes: Uint8Array): void {
    this.ensure(bytes.length + 2)
    for (let i = 0; i < bytes.length; i++) {
      const c = bytes[i] as number
      if (c < 0x20 || c > 0x7e || c === QUOTE || c === BACKSLASH) {
        this.string(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8'))
        return
      }
    }
    const buf = this.buf
    buf[this.at++] = QUOTE
    buf.set(bytes, this.at)
    this.at += bytes.length
    buf[this.at++] = QUOTE
  }

  /** A finite number as JSON writes it (null otherwise, as JSON.stringify does). */
  number (value: number): void {
    this.ascii(Number.isFinite(value) ? String(value) : 'null')
  }

  /** An object of string values, keys in the order JSON.stringify takes them. */
  stringRecord (record: Readonly<Record<string, string>>): void {
    const keys = Object.keys(record)
    for (let i = 0; i < keys.length; i++) {
      // Not what the type says (a value that is no string): JSON.stringify decides, as it did before.
      if (typeof record[keys[i] as string] !== 'string') {
        this.utf8(JSON.stringify(record))
        return
      }
    }
    this.byte(123) // {
    for (let i = 0; i < keys.length; i++) {
      if (i > 0) this.byte(44) // ,
      const key = keys[i] as string
      this.string(key)
      this.byte(58) // :
      this.string(record[key] as string)
    }
    this.byte(125) // }
  }

  /** The JSON text written so far: a view of the writer's buffer, which the writer no longer touches. */
  done (): Buffer {
    const out = this.buf.subarray(0, this.at)
    this.buf = Buffer.allocUnsafe(0)
    this.at = 0
    return out
  }

  private byte (value: number): void {
    this.ensure(1)
    this.buf[this.at++] = value
  }

  private ascii (text: string): void {
    this.ensure(text.length)
    const buf = this.buf
    let at = this.at
    for (let i = 0; i < text.length; i++) buf[at++] = text.charCodeAt(i)
    this.at = at
  }

  private utf8 (text: string): void {
    // A UTF-16 unit takes at most 3 bytes of UTF-8 (a surrogate pair, 4 for 2).
    this.ensure(text.length * 3)
    this.at += this.buf.write(text, this.at, 'utf8')
  }

  private ensure (more: number): void {
    const need = this.at + more
    if (need <= this.buf.length) return
    const grown = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2))
    this.buf.copy(grown, 0, 0, this.at)
    this.buf = grown
  }
}
