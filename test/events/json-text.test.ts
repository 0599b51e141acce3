import assert from 'node:assert/strict'
import { test } from 'node:test'
import { isJsonText } from '../../src/events/index.js'

/** What JSON.parse says of the same bytes: the check must agree with it exactly. */
function parses (text: string): boolean {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}

function check (text: string): void {
  assert.equal(isJsonText(Buffer.from(text, 'utf8')), parses(text), JSON.stringify(text))
}

test('JSON text is what JSON.parse takes: one value, whitespace around it, nothing else', () => {
  const valid = [
    '0', '-0', '1', '-12.5e+3', '1E9', '0.25', '1e-7', '"x"', '""', 'true', 'false', 'null', '[]', '{}', ' [ ] ', '\t\r\n{}\n',
    '{"a":1,"b":[true,false,null],"c":{"d":"e"}}', '[1, 2 ,3]', '{ "a" : 1 }', '"\\"\\\\\\/\\b\\f\\n\\r\\t"', '"\\u00e9\\uD83E\\udd89"',
    '"日本 🦉 é"', '[[[[[[]]]]]]', '{"":""}', '"\\ud800"'
  ]
  const invalid = [
    '', ' ', '01', '-', '+1', '1.', '.5', '1e', '1e+', '--1', '0x10', 'NaN', 'Infinity', 'tru', 'truee', 'nul', 'True',
    '"', '"abc', '"\\x"', '"\\u12"', '"\\u12G4"', '"tab\there"', '"line\nbreak"', '[', ']', '[1,]', '[,1]', '[1 2]',
    '{', '{"a"}', '{"a":}', '{"a":1,}', '{1:2}', "{'a':1}", '{"a" 1}', '{"a":1 "b":2}', '1 2', '[] []', '{}x',
    '\u00a0{}', '\ufeff{}', '[1]]', '{"a":[}', '[{]}', '"\u0000"', '/* no */ 1', '[1,,2]'
  ]
  for (const text of valid) {
    assert.equal(isJsonText(Buffer.from(text, 'utf8')), true, JSON.stringify(text))
    check(text)
  }
  for (const text of invalid) {
    assert.equal(isJsonText(Buffer.from(text, 'utf8')), false, JSON.stringify(text))
    check(text)
  }
})

test('deep nesting is checked without running out of stack', () => {
  check('['.repeat(100_000) + ']'.repeat(100_000))
  assert.equal(isJsonText(Buffer.from('['.repeat(100_000) + ']'.repeat(100_000))), true)
  assert.equal(isJsonText(Buffer.from('{"a":'.repeat(5000) + '1' + '}'.repeat(4999))), false)
})

test('over many generated texts and their corruptions, the check agrees with JSON.parse', () => {
  let seed = 7
  const random = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648
    return seed / 2147483648
  }
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T
  const value = (depth: number): unknown => {
    const kind = Math.floor(random() * (depth > 3 ? 4 : 6))
    switch (kind) {
      case 0: return pick([0, -1, 3.25, 1e21, -2.5e-7, 123456789])
      case 1: return pick(['', 'a', 'quote " and \\ back', 'tab\t', '\u0001', 'é日🦉', '\ud800'])
      case 2: return pick([true, false, null])
      case 3: return pick([[], {}])
      case 4: return Array.from({ length: Math.floor(random() * 4) }, () => value(depth + 1))
      default: return Object.fromEntries(Array.from({ length: Math.floor(random() * 4) }, (_, i) => [`k${i}`, value(depth + 1)]))
    }
  }
  const noise = [' ', '\n', ',', ':', '[', ']', '{', '}', '"', '\\', '0', '1', '-', '.', 'e', '+', 'u', 'a', 't', 'n', '\t', 'x']
  for (let i = 0; i < 4000; i++) {
    let text = JSON.stringify(value(0), null, random() < 0.3 ? 1 : undefined)
    check(text)
    for (let m = 0; m < 3; m++) {
      const at = Math.floor(random() * (text.length + 1))
      const op = random()
      if (op < 0.4) text = text.slice(0, at) + text.slice(at + 1)
      else if (op < 0.8) text = text.slice(0, at) + pick(noise) + text.slice(at)
      else text = text.slice(0, at) + pick(noise) + text.slice(at + 1)
      check(text)
    }
  }
})
