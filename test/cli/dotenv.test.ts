import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseDotenv } from '../../src/cli/dotenv.js'
import { secretData } from '../../src/cli/commands/secret.js'
import { EnvFileError } from '../../src/errors/index.js'

test('KEY=VALUE lines, comments, blanks, export and both quotes', () => {
  const text = [
    '# database',
    '',
    'DB_USER=app',
    'export DB_HOST = db.internal  ',
    'DB_PASSWORD="p@ss word # not a comment"',
    "RAW='a\\nb $HOME'",
    'ESCAPED="line1\\nline2\\t\\"q\\""',
    'PLAIN=value # a comment',
    'HASH=a#b',
    'EMPTY=',
    '   # indented comment',
    'DB_USER=again'
  ].join('\r\n')
  assert.deepEqual(parseDotenv(text, '.env'), [
    ['DB_HOST', 'db.internal'],
    ['DB_PASSWORD', 'p@ss word # not a comment'],
    ['RAW', 'a\\nb $HOME'],
    ['ESCAPED', 'line1\nline2\t"q"'],
    ['PLAIN', 'value'],
    ['HASH', 'a#b'],
    ['EMPTY', ''],
    ['DB_USER', 'again']
  ])
})

test('a bad line is an error naming the file and its line, without quoting a value', () => {
  const cases: Array<[string, number, RegExp]> = [
    ['A=1\n\nthis line has no equals\n', 3, /\.env:3: expected KEY=VALUE/],
    ['# c\n1BAD=x\n', 2, /\.env:2: "1BAD" is not a valid key/],
    ['A=1\nB="unclosed s3cret\nC=2\n', 2, /\.env:2: the value opened with " is not closed/],
    ["A='x' s3cret\n", 1, /\.env:1: text after the closing '/]
  ]
  for (const [text, line, message] of cases) {
    assert.throws(() => parseDotenv(text, '.env'), (err: unknown) => {
      assert.ok(err instanceof EnvFileError, String(err))
      assert.equal(err.code, 'ROOST_E_ENV_FILE')
      assert.equal(err.line, line)
      assert.match(err.message, message)
      assert.equal(err.message.includes('s3cret'), false, `the message shows the value: ${err.message}`)
      return true
    })
  }
})

test('--from-literal wins over --from-env-file, and no value at all is a usage error', () => {
  assert.deepEqual({ ...secretData(['A=literal', 'B=x=y'], []) }, { A: 'literal', B: 'x=y' })
  assert.throws(() => secretData([], []), { code: 'ROOST_E_USAGE' })
  assert.throws(() => secretData(['=x'], []), { code: 'ROOST_E_USAGE' })
})
