import { test } from 'node:test'
import assert from 'node:assert/strict'
import { unsafeRegexReason } from '../../src/governance/index.js'

test('plain patterns, classes, alternations and single quantifiers are safe', () => {
  for (const pattern of ['^v2$', 'gray|blue', '^user-[0-9]+$', '[a-z]{2,8}', '(beta|canary)-\\d+', '^(ab)?c*$', '[(+)]+']) {
    assert.equal(unsafeRegexReason(pattern), null, pattern)
  }
})

test('nested quantifiers are refused: they backtrack exponentially', () => {
  for (const pattern of ['(a+)+', '(a*)*b', '((ab)+)+', '(\\d+){2,}', '(x+x+)+y', '(?:a|aa+)*']) {
    assert.match(unsafeRegexReason(pattern) ?? '', /nested quantifiers/, pattern)
  }
})

test('backreferences, invalid and over-long patterns are refused', () => {
  assert.match(unsafeRegexReason('(a)\\1') ?? '', /backreferences/)
  assert.match(unsafeRegexReason('(?<x>a)\\k<x>') ?? '', /backreferences/)
  assert.match(unsafeRegexReason('(') ?? '', /not a valid regular expression/)
  assert.match(unsafeRegexReason('a'.repeat(257)) ?? '', /at most 256/)
})
