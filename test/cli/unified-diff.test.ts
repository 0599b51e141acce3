import { test } from 'node:test'
import assert from 'node:assert/strict'
import { unifiedDiff } from '../../src/cli/unified-diff.js'

const labels = { from: 'a', to: 'b' }

test('equal texts give no diff at all', () => {
  assert.equal(unifiedDiff('x\ny\n', 'x\ny\n', labels), '')
})

test('a changed line shows as - then +, with three lines of context, as diff -u prints it', () => {
  const before = 'l1\nl2\nl3\nl4\nl5\nl6\nl7\nl8\n'
  const after = 'l1\nl2\nl3\nl4\nL5\nl6\nl7\nl8\n'
  assert.equal(unifiedDiff(before, after, labels), '--- a\n+++ b\n@@ -2,7 +2,7 @@\n l2\n l3\n l4\n-l5\n+L5\n l6\n l7\n l8\n')
})

test('changes far apart make separate hunks', () => {
  const lines = Array.from({ length: 20 }, (_, i) => `l${i + 1}`)
  const after = [...lines]
  after[1] = 'X'
  after[17] = 'Y'
  const diff = unifiedDiff(lines.join('\n') + '\n', after.join('\n') + '\n', labels)
  assert.deepEqual(diff.split('\n').filter((line) => line.startsWith('@@')), ['@@ -1,5 +1,5 @@', '@@ -15,6 +15,6 @@'])
})

test('against nothing, every line is added', () => {
  assert.equal(unifiedDiff('', 'a\nb\n', labels), '--- a\n+++ b\n@@ -0,0 +1,2 @@\n+a\n+b\n')
})
