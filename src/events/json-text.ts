// Whether bytes are JSON text, without parsing them into values. A broker
// message's JSON body is spliced into its delivery as it is, so every body is
// checked once when it arrives; JSON.parse did that by decoding it into a
// string and building its values, only to drop them (a tenth of the platform
// thread in a drain). Written by hand: no maintained package checks JSON
// bytes without building them (the fast ones are native add-ons).

const enum Byte {
  Tab = 9, Lf = 10, Cr = 13, Space = 32, Quote = 34, Plus = 43, Comma = 44, Minus = 45, Dot = 46, Slash = 47,
  Zero = 48, One = 49, Nine = 57, Colon = 58, UpperA = 65, UpperE = 69, UpperF = 70, OpenSquare = 91,
  Backslash = 92, CloseSquare = 93, LowerA = 97, LowerB = 98, LowerE = 101, LowerF = 102, LowerN = 110,
  LowerR = 114, LowerT = 116, LowerU = 117, OpenCurly = 123, CloseCurly = 125
}

const enum Container { Array = 1, Object = 2 }

/** The open arrays and objects of the text being checked; grown when a text nests deeper. */
let open: Uint8Array = new Uint8Array(64)

/**
 * One JSON value with optional whitespace around it, as JSON.parse takes it
 * (ECMA-404). Bytes of 0x80 and above are taken as they are inside strings:
 * whether they are UTF-8 is the caller's check (node:buffer's isUtf8).
 */
export function isJsonText (bytes: Uint8Array): boolean {
  const end = bytes.length
  let depth = 0
  let at = skipSpace(bytes, 0)
  for (;;) {
    // A value starts at `at`.
    if (at >= end) return false
    const c = bytes[at] as number
    if (c === Byte.OpenCurly || c === Byte.OpenSquare) {
      at = skipSpace(bytes, at + 1)
      const close = c === Byte.OpenCurly ? Byte.CloseCurly : Byte.CloseSquare
      if (bytes[at] === close) {
        at++
      } else {
        if (depth === open.length) open = grown(open)
        open[depth++] = c === Byte.OpenCurly ? Container.Object : Container.Array
        if (c === Byte.OpenCurly && (at = member(bytes, at)) < 0) return false
        continue
      }
    } else if (c === Byte.Quote) {
      if ((at = stringEnd(bytes, at)) < 0) return false
    } else if (c === Byte.LowerT) {
      if (!word(bytes, at, TRUE)) return false
      at += 4
    } else if (c === Byte.LowerF) {
      if (!word(bytes, at, FALSE)) return false
      at += 5
    } else if (c === Byte.LowerN) {
      if (!word(bytes, at, NULL)) return false
      at += 4
    } else if ((at = numberEnd(bytes, at)) < 0) {
      return false
    }
    // A value ended: what may follow it closes containers, or starts the next value of one.
    for (;;) {
      at = skipSpace(bytes, at)
      if (depth === 0) return at === end
      const inObject = open[depth - 1] === Container.Object
      const next = bytes[at]
      if (next === Byte.Comma) {
        at = skipSpace(bytes, at + 1)
        if (inObject && (at = member(bytes, at)) < 0) return false
        break
      }
      if (next !== (inObject ? Byte.CloseCurly : Byte.CloseSquare)) return false
      depth--
      at++
    }
  }
}

const TRUE = [Byte.LowerT, Byte.LowerR, Byte.LowerU, Byte.LowerE]
const FALSE = [Byte.LowerF, Byte.LowerA, 108, 115, Byte.LowerE]
const NULL = [Byte.LowerN, Byte.LowerU, 108, 108]

/** A member's name and colon at `at`: where its value starts (after whitespace), or -1. */
function member (bytes: Uint8Array, at: number): number {
  if (bytes[at] !== Byte.Quote) return -1
  at = stringEnd(bytes, at)
  if (at < 0) return -1
  at = skipSpace(bytes, at)
  if (bytes[at] !== Byte.Colon) return -1
  return skipSpace(bytes, at + 1)
}

function skipSpace (bytes: Uint8Array, at: number): number {
  for (;;) {
    const c = bytes[at]
    if (c !== Byte.Space && c !== Byte.Lf && c !== Byte.Cr && c !== Byte.Tab) return at
    at++
  }
}

function word (bytes: Uint8Array, at: number, letters: readonly number[]): boolean {
  for (let i = 0; i < letters.length; i++) if (bytes[at + i] !== letters[i]) return false
  return true
}

/** The string starting with the quote at `at`: the offset after its closing quote, or -1. */
function stringEnd (bytes: Uint8Array, at: number): number {
  const end = bytes.length
  for (let i = at + 1; i < end;) {
    const c = bytes[i] as number
    if (c === Byte.Quote) return i + 1
    if (c < Byte.Space) return -1
    if (c !== Byte.Backslash) {
      i++
      continue
    }
    const escaped = bytes[i + 1]
    if (escaped === Byte.LowerU) {
      for (let h = i + 2; h < i + 6; h++) if (!isHex(bytes[h])) return -1
      i += 6
    } else if (escaped === Byte.Quote || escaped === Byte.Backslash || escaped === Byte.Slash || escaped === Byte.LowerB ||
      escaped === Byte.LowerF || escaped === Byte.LowerN || escaped === Byte.LowerR || escaped === Byte.LowerT) {
      i += 2
    } else {
      return -1
    }
  }
  return -1
}

/** The number at `at` (`-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`): the offset after it, or -1. */
function numberEnd (bytes: Uint8Array, at: number): number {
  if (bytes[at] === Byte.Minus) at++
  const first = bytes[at]
  if (first === Byte.Zero) at++
  else if (first !== undefined && first >= Byte.One && first <= Byte.Nine) at = digitsEnd(bytes, at)
  else return -1
  if (bytes[at] === Byte.Dot) {
    const after = digitsEnd(bytes, at + 1)
    if (after === at + 1) return -1
    at = after
  }
  const e = bytes[at]
  if (e === Byte.LowerE || e === Byte.UpperE) {
    at++
    if (bytes[at] === Byte.Plus || bytes[at] === Byte.Minus) at++
    const after = digitsEnd(bytes, at)
    if (after === at) return -1
    at = after
  }
  return at
}

function digitsEnd (bytes: Uint8Array, at: number): number {
  for (;;) {
    const c = bytes[at]
    if (c === undefined || c < Byte.Zero || c > Byte.Nine) return at
    at++
  }
}

function isHex (c: number | undefined): boolean {
  return c !== undefined && ((c >= Byte.Zero && c <= Byte.Nine) || (c >= Byte.LowerA && c <= Byte.LowerF) || (c >= Byte.UpperA && c <= Byte.UpperF))
}

function grown (stack: Uint8Array): Uint8Array {
  const bigger = new Uint8Array(stack.length * 2)
  bigger.set(stack)
  return bigger
}
