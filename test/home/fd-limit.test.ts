import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { readFileLimit } from '../../src/home/index.js'

const FD_LIMIT_MODULE = fileURLToPath(new URL('../../src/home/fd-limit.js', import.meta.url))

// A child lowers its own soft limit (node raises it to the hard limit at its
// start, so a fresh process is already there), then raises it again, and
// reports /proc/self/limits before and after along with what raiseFileLimit said.
const CHILD = `
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
const { raiseFileLimit } = await import(process.argv[1])
const line = () => readFileSync('/proc/self/limits', 'utf8').split('\\n').find((l) => l.startsWith('Max open files'))
const hard = line().split(/\\s+/)[4]
execFileSync('prlimit', ['--pid', String(process.pid), '--nofile=256:' + hard])
const lowered = line()
const change = raiseFileLimit()
console.log(JSON.stringify({ lowered, after: line(), change, hard }))
`

test('readFileLimit reads this process\'s soft and hard limit of open files', () => {
  const limit = readFileLimit()
  assert.ok(limit !== undefined)
  assert.ok(limit.soft === null || limit.soft > 0)
  assert.ok(limit.hard === null || (limit.soft !== null && limit.hard >= limit.soft))
})

// prlimit (util-linux) is part of this machine and of CI.
test('raiseFileLimit raises a lowered soft limit to the hard limit with prlimit', () => {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', CHILD, FD_LIMIT_MODULE], { encoding: 'utf8', timeout: 20_000 })
  assert.equal(child.status, 0, child.stderr)
  const seen = JSON.parse(child.stdout) as { lowered: string, after: string, hard: string, change: { before: { soft: number, hard: number }, after: { soft: number, hard: number }, how: string } }
  assert.match(seen.lowered, /^Max open files\s+256\s/)
  const hard = Number(seen.hard)
  assert.ok(hard > 256, `the hard limit here is ${seen.hard}`)
  assert.match(seen.after, new RegExp(`^Max open files\\s+${hard}\\s+${hard}\\s`))
  assert.deepEqual(seen.change.before, { soft: 256, hard })
  assert.deepEqual(seen.change.after, { soft: hard, hard })
  assert.match(seen.change.how, /raised the soft limit from 256 to \d+ with prlimit/)
})

test('raiseFileLimit never throws: without prlimit on the PATH it says so and changes nothing', () => {
  const script = `
    const { raiseFileLimit } = await import(process.argv[1])
    console.log(JSON.stringify(raiseFileLimit()))`
  // a soft limit below the hard one, so that there is something to raise
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', `
    import { execFileSync } from 'node:child_process'
    execFileSync('prlimit', ['--pid', String(process.pid), '--nofile=256:4096'])
    process.env.PATH = '/nonexistent'
    ${script}`, FD_LIMIT_MODULE], { encoding: 'utf8', timeout: 20_000 })
  assert.equal(child.status, 0, child.stderr)
  const change = JSON.parse(child.stdout) as { before: { soft: number }, after: { soft: number }, how: string }
  assert.equal(change.before.soft, 256)
  assert.equal(change.after.soft, 256)
  assert.match(change.how, /not raised: prlimit is not installed/)
})

test('raiseFileLimit at the hard limit already does nothing and says so', () => {
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', 'const { raiseFileLimit } = await import(process.argv[1]); console.log(JSON.stringify(raiseFileLimit()))', FD_LIMIT_MODULE], { encoding: 'utf8', timeout: 20_000 })
  assert.equal(child.status, 0, child.stderr)
  const change = JSON.parse(child.stdout) as { before: unknown, after: unknown, how: string }
  assert.match(change.how, /^already at the hard limit/)
  assert.deepEqual(change.after, change.before)
})
