// `roost apply` names the file, line and column of the field a validation
// error is about, also in the second document of a file. Validation runs
// before the platform is contacted, so no platform is started here.
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runCli, writeProject } from '../helpers/platform.js'

const home = mkdtempSync(join(tmpdir(), 'roost-home-'))
const dir = writeProject({
  'a.ts': "export default () => new Response('a')\n",
  'b.ts': "export default () => new Response('b')\n",
  'roost.yaml': [
    'apiVersion: roost.dev/v1', //  1
    'kind: Function', //              2
    'metadata:', //                   3
    '  name: first', //               4
    'spec:', //                       5
    '  source: ./a.ts', //            6
    '---', //                         7
    '# the second function', //       8
    'apiVersion: roost.dev/v1', //  9
    'kind: Function', //             10
    'metadata:', //                  11
    '  name: second', //             12
    'spec:', //                      13
    '  source: ./b.ts', //           14
    '  timeout: 10s', //             15
    '  scale:', //                   16
    '    window: 0s', //             17
    '    max: 3', //                 18
    ''
  ].join('\n')
})

after(() => {
  rmSync(dir, { recursive: true, force: true })
  rmSync(home, { recursive: true, force: true })
})

test('a validation error points at the line and column of the bad field', async () => {
  const result = await runCli(['apply', '-f', 'roost.yaml'], { cwd: dir, env: { ROOST_HOME: home } })
  assert.equal(result.code, 1, result.stdout + result.stderr)
  assert.match(result.stderr, /^error: roost\.yaml:17:5: spec\.scale\.window: expected a duration of at least 6s, got "0s"\n/)
})
