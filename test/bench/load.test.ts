// The Lua script the bench gives wrk: checks, and header sets handed out round-robin.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { wrkScript } from '../../bench/load.js'

test('a checking script counts responses and defines no request hook', () => {
  const script = wrkScript({ check: true })
  assert.match(script, /^function response\(status, headers, body\)$/m)
  assert.match(script, /ROOST_CHECK ok=%d status=%d body=%d/)
  assert.doesNotMatch(script, /^function request\(\)$/m)
})

test('header sets become prepared requests handed out in turn, each set written as a Lua table', () => {
  const script = wrkScript({ check: false, headerSets: [{ 'x-tenant': 't0' }, { 'x-tenant': 'say "hi" \\ bye' }] })
  assert.match(script, /^ {2}\{ \["x-tenant"\] = "t0" \},$/m)
  assert.match(script, /^ {2}\{ \["x-tenant"\] = "say \\"hi\\" \\\\ bye" \}$/m)
  assert.match(script, /prepared\[i\] = wrk\.format\(nil, nil, headers\)/)
  assert.match(script, /^function request\(\)$/m)
  assert.doesNotMatch(script, /ROOST_CHECK/)
})

test('a header value that is not printable ASCII is refused rather than mangled', () => {
  assert.throws(() => wrkScript({ check: false, headerSets: [{ 'x-tenant': 'tenant\n' }] }), /printable ASCII/)
  assert.throws(() => wrkScript({ check: false, headerSets: [{ 'x-tenant': 'é' }] }), /printable ASCII/)
})
