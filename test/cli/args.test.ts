import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseCommandArgs } from '../../src/cli/args.js'
import { movedText } from '../../src/cli/commands/rollback.js'

const options = { output: { type: 'string', short: 'o' }, wait: { type: 'boolean' } } as const

test('an unknown flag is one line of cause naming the command and one of hint, not node\'s text', () => {
  assert.throws(() => parseCommandArgs('get', ['--foo'], options), { code: 'ROOST_E_USAGE', message: 'unknown flag --foo for roost get', hint: 'see `roost get --help`' })
  assert.throws(() => parseCommandArgs('get', ['-z'], options), { message: 'unknown flag -z for roost get' })
})

test('a flag without its value, or a value given to a switch, says which flag', () => {
  assert.throws(() => parseCommandArgs('get', ['-o'], options), { message: 'flag --output of roost get needs a value' })
  assert.throws(() => parseCommandArgs('apply', ['--wait=yes'], options), { message: 'flag --wait of roost apply takes no value' })
})

test('rollback says back, forward, or that nothing moved', () => {
  assert.equal(movedText(3, 1), 'rolled back from v3 to v1')
  assert.equal(movedText(1, 2), 'rolled forward from v1 to v2')
  assert.equal(movedText(2, 2), 'already serves v2: all traffic moved to it')
})
