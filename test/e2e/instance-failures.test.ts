// What a caller and an operator see when a function's instance fails: it
// crashes, throws, hangs, runs out of memory, cannot load, or is sent too much.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { TestPlatform, manifest, waitFor, writeProject } from '../helpers/platform.js'
import { expectProblem } from '../helpers/problems.js'

const SECRET = 'secret-7f3a-hunter2'

const CRASH_TS = `
import { existsSync } from 'node:fs'

export default async (req: Request): Promise<Response> => {
  const url = new URL(req.url)
  if (url.pathname === '/crash') process.exit(1)
  if (url.pathname === '/uncaught') {
    setTimeout(() => { throw new Error('thrown from a timer') }, 10)
    await new Promise((resolve) => setTimeout(resolve, 20_000))
    return new Response('not reached')
  }
  // ?hold=FILE: stays in flight until the test creates FILE (no guessing how long to sleep).
  const hold = url.searchParams.get('hold')
  if (hold !== null) {
    console.log('holding until ' + hold)
    while (!existsSync(hold)) await new Promise((resolve) => setTimeout(resolve, 10))
    return new Response('released by ' + process.pid)
  }
  return new Response(String(process.pid))
}
`

const THROWS_TS = `
export default async (req: Request): Promise<Response> => {
  const url = new URL(req.url)
  if (url.pathname === '/throw') throw new Error('${SECRET}: the database password leaked')
  if (url.pathname === '/not-response') return { hello: 'world' } as unknown as Response
  if (req.method === 'POST') return new Response('received ' + (await req.arrayBuffer()).byteLength + ' bytes')
  return new Response(String(process.pid))
}
`

const SLOW_TS = `
export default async (req: Request): Promise<Response> => {
  const url = new URL(req.url)
  if (url.pathname === '/sleep') {
    await new Promise((resolve) => setTimeout(resolve, 3000))
    console.log('woke up after 3 s')
    return new Response('too late')
  }
  if (url.pathname === '/spin') {
    while (true) {}
  }
  return new Response(String(process.pid))
}
`

const HOG_TS = `
const hoard: number[][] = []
export default async (req: Request): Promise<Response> => {
  if (new URL(req.url).pathname === '/hog') {
    for (;;) hoard.push(new Array(1_000_000).fill(hoard.length))
  }
  return new Response(String(process.pid))
}
`

let platform: TestPlatform
let dir: string

before(async () => {
  platform = await TestPlatform.start()
  dir = writeProject({
    'crash.ts': CRASH_TS,
    'throws.ts': THROWS_TS,
    'slow.ts': SLOW_TS,
    'hog.ts': HOG_TS,
    'broken.ts': "throw new Error('boom at load')\nexport default () => new Response('never')\n",
    'fixed.ts': "export default () => new Response('fixed')\n",
    'roost.yaml': [
      manifest('crash', 'source: ./crash.ts\nconcurrency: 1\nscale:\n  min: 2'),
      manifest('throws', 'source: ./throws.ts\nscale:\n  min: 1'),
      manifest('slow', 'source: ./slow.ts\ntimeout: 1s\nscale:\n  min: 1'),
      manifest('hog', 'source: ./hog.ts\nmemory: 32Mi\nscale:\n  min: 1'),
      manifest('broken', 'source: ./broken.ts\nscale:\n  min: 0')
    ].join('---\n'),
    'fixed.yaml': manifest('broken', 'source: ./fixed.ts\nscale:\n  min: 0')
  })
  // Instances run as their namespace's own uid: the release files of ?hold= must be visible to it.
  chmodSync(dir, 0o755)
  const applied = await platform.cli(['apply', '-f', join(dir, 'roost.yaml')])
  assert.equal(applied.code, 0, applied.stderr)
  await waitForReady('crash', (pids) => pids.length === 2)
  await waitForReady('throws', (pids) => pids.length === 1)
  await waitForReady('slow', (pids) => pids.length === 1)
  await waitForReady('hog', (pids) => pids.length === 1)
})

after(async () => {
  await platform?.stop()
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true })
})

/** Pids of the function's ready instances, once `check` accepts them. */
async function waitForReady (fn: string, check: (pids: number[]) => boolean, timeoutMs = 15_000): Promise<number[]> {
  let pids: number[] = []
  await waitFor(async () => {
    pids = (await platform.instances()).filter((i) => i.function === fn && i.state === 'ready').map((i) => i.pid).sort()
    return check(pids)
  }, timeoutMs, () => `ready instances of ${fn}: ${JSON.stringify(pids)}`)
  return pids
}

async function pidServing (fn: string): Promise<number> {
  const response = await platform.fetch(`/fn/${fn}`)
  const text = await response.text()
  assert.equal(response.status, 200, text)
  return Number(text)
}

async function events (fn: string): Promise<Array<{ type: string, reason: string, message: string }>> {
  const response = await platform.api(`/apis/roost.dev/v1/namespaces/default/functions/${fn}/events?limit=200`)
  assert.equal(response.status, 200)
  return (await response.json() as { items: Array<{ type: string, reason: string, message: string }> }).items
}

async function waitForEvent (fn: string, reason: string, count = 1): Promise<Array<{ type: string, reason: string, message: string }>> {
  let found: Array<{ type: string, reason: string, message: string }> = []
  await waitFor(async () => {
    found = (await events(fn)).filter((e) => e.reason === reason)
    return found.length >= count
  }, 15_000, () => `${count} event(s) ${reason} for ${fn}, found ${JSON.stringify(found)}`)
  return found
}

async function logsOf (fn: string): Promise<string> {
  const result = await platform.cli(['logs', fn])
  assert.equal(result.code, 0, result.stderr)
  return result.stdout
}

test('an instance that calls process.exit answers its request with 502, is replaced, and does not disturb requests on other instances', { timeout: 30_000 }, async () => {
  const before = await waitForReady('crash', (pids) => pids.length === 2)
  // concurrency 1: while the held request occupies one instance, the crash must go to the other.
  const releaseFile = join(dir, 'release-crash')
  const held = platform.fetch(`/fn/crash?hold=${encodeURIComponent(releaseFile)}`)
  await waitFor(async () => (await logsOf('crash')).includes(`holding until ${releaseFile}`), 10_000, () => 'the held request never reached its handler')

  const crashed = await platform.fetch('/fn/crash/crash')
  const problem = await expectProblem(crashed, 502, 'ROOST_E_INSTANCE_CRASHED')
  assert.equal(problem.requestId, crashed.headers.get('x-request-id'))

  // Replaced: two ready instances again, one of them with a pid not seen before.
  const afterCrash = await waitForReady('crash', (pids) => pids.length === 2 && pids.filter((pid) => !before.includes(pid)).length === 1)
  await waitForEvent('crash', 'Crashed')
  const describe = await platform.cli(['describe', 'function', 'crash'])
  assert.equal(describe.code, 0, describe.stderr)
  assert.match(describe.stdout, /Warning\s+Crashed\s+instance crash-v1-\S+ exited \(exit code 1\)/)

  // The other request was in flight the whole time and completes normally.
  writeFileSync(releaseFile, '')
  const heldResponse = await held
  assert.equal(heldResponse.status, 200)
  const heldBy = Number((await heldResponse.text()).replace('released by ', ''))
  assert.ok(before.includes(heldBy) && afterCrash.includes(heldBy), `the held request's instance (${heldBy}) was not the surviving one: ${JSON.stringify({ before, afterCrash })}`)

  // The crashed instance's pid is gone and the function serves again.
  const crashedPid = before.find((pid) => pid !== heldBy)
  assert.ok(crashedPid !== undefined && !afterCrash.includes(crashedPid))
  assert.ok(afterCrash.includes(await pidServing('crash')))
})

test('an uncaught exception thrown from a timer is a crash: 502, a replacement instance, and the stack in roost logs', { timeout: 30_000 }, async () => {
  const before = await waitForReady('crash', (pids) => pids.length === 2)
  const crashesBefore = (await events('crash')).filter((e) => e.reason === 'Crashed').length

  const response = await platform.fetch('/fn/crash/uncaught')
  await expectProblem(response, 502, 'ROOST_E_INSTANCE_CRASHED')

  const afterCrash = await waitForReady('crash', (pids) => pids.length === 2 && pids.filter((pid) => !before.includes(pid)).length === 1)
  const crashes = await waitForEvent('crash', 'Crashed', crashesBefore + 1)
  assert.ok(crashes.some((e) => /uncaught exception/.test(e.message)), JSON.stringify(crashes))
  assert.ok(afterCrash.includes(await pidServing('crash')))

  let logs = ''
  await waitFor(async () => {
    logs = await logsOf('crash')
    return /uncaught exception: Error: thrown from a timer/.test(logs)
  }, 10_000, () => `no stack in roost logs crash:\n${logs}`)
  const lines = logs.split('\n')
  const first = lines.findIndex((line) => line.includes('uncaught exception: Error: thrown from a timer'))
  assert.match(lines[first + 1] ?? '', /ERROR\s+at /, `the stack's frames follow its message:\n${logs}`)
})

test('a handler that throws gets a 500 problem with the request id, without the stack or the message, which go to roost logs', { timeout: 30_000 }, async () => {
  const pid = await pidServing('throws')
  const response = await platform.fetch('/fn/throws/throw')
  const requestId = response.headers.get('x-request-id')
  assert.ok(requestId !== null && requestId !== '', 'the gateway sets x-request-id')
  const clone = response.clone()
  const problem = await expectProblem(response, 500, 'ROOST_E_HANDLER')
  assert.equal(problem.requestId, requestId)
  assert.ok(problem.detail.includes(requestId), `the detail names the request: ${problem.detail}`)
  const body = await clone.text()
  assert.ok(!body.includes(SECRET), `the error message leaked to the caller: ${body}`)
  assert.doesNotMatch(body, /\bat .*:\d+:\d+|throws\.ts|node:internal/, `the stack leaked to the caller: ${body}`)

  let logs = ''
  await waitFor(async () => {
    logs = await logsOf('throws')
    return logs.includes(requestId)
  }, 10_000, () => `request ${requestId} not in roost logs throws:\n${logs}`)
  const lines = logs.split('\n')
  const first = lines.findIndex((line) => line.includes(requestId))
  assert.match(lines[first], new RegExp(`ERROR .*Error: ${SECRET}: the database password leaked`))
  assert.match(lines[first + 1] ?? '', /^\s+at /, `the stack follows the message:\n${logs}`)

  // The instance was not harmed.
  assert.equal(await pidServing('throws'), pid)
})

test('a handler that returns something other than a Response gets a 500 that says so', { timeout: 30_000 }, async () => {
  const response = await platform.fetch('/fn/throws/not-response')
  const problem = await expectProblem(response, 500, 'ROOST_E_HANDLER')
  assert.match(problem.detail, /returned an object .*instead of a Response/)
  assert.equal(problem.requestId, response.headers.get('x-request-id'))
})

test('a request past spec.timeout gets 504 and, when the instance is merely waiting, the same instance keeps serving', { timeout: 30_000 }, async () => {
  const pid = await pidServing('slow')
  const response = await platform.fetch('/fn/slow/sleep')
  const problem = await expectProblem(response, 504, 'ROOST_E_TIMEOUT')
  assert.match(problem.detail, /timeout of 1s/)
  assert.equal(await pidServing('slow'), pid)
  // The handler runs to its end, well after the liveness ping that followed the timeout.
  await waitFor(async () => (await logsOf('slow')).includes('woke up after 3 s'), 10_000, () => 'the timed-out handler never finished')
  assert.equal(await pidServing('slow'), pid)
  assert.deepEqual((await events('slow')).filter((e) => e.reason === 'Unresponsive'), [])
})

test('a handler stuck in an infinite loop gets 504, and its instance is killed and replaced', { timeout: 30_000 }, async () => {
  const [pid] = await waitForReady('slow', (pids) => pids.length === 1)
  const response = await platform.fetch('/fn/slow/spin')
  await expectProblem(response, 504, 'ROOST_E_TIMEOUT')

  const [replacement] = await waitForReady('slow', (pids) => pids.length === 1 && pids[0] !== pid)
  const [unresponsive] = await waitForEvent('slow', 'Unresponsive')
  assert.equal(unresponsive.type, 'Warning')
  assert.equal(await pidServing('slow'), replacement)
})

test('an instance that exceeds spec.memory answers 502, is reported OutOfMemory, and is replaced', { timeout: 30_000 }, async () => {
  const [pid] = await waitForReady('hog', (pids) => pids.length === 1)
  const response = await platform.fetch('/fn/hog/hog')
  await expectProblem(response, 502, 'ROOST_E_INSTANCE_CRASHED')

  const [event] = await waitForEvent('hog', 'OutOfMemory')
  assert.equal(event.type, 'Warning')
  assert.match(event.message, /out of memory/)
  const [replacement] = await waitForReady('hog', (pids) => pids.length === 1 && pids[0] !== pid)
  assert.equal(await pidServing('hog'), replacement)
})

test('a module that throws while loading answers 502 ROOST_E_START_FAILED with the cause, and a fixed version serves', { timeout: 30_000 }, async () => {
  const response = await platform.fetch('/fn/broken')
  const problem = await expectProblem(response, 502, 'ROOST_E_START_FAILED')
  assert.match(problem.detail, /boom at load/)

  // The platform is unharmed: its API and other functions answer.
  assert.equal((await platform.api('/healthz', { token: null })).status, 200)
  await pidServing('throws')

  const applied = await platform.cli(['apply', '-f', join(dir, 'fixed.yaml')])
  assert.equal(applied.code, 0, applied.stderr)
  assert.match(applied.stdout, /function\/broken configured \(v2\)/)
  let last = ''
  await waitFor(async () => {
    const fixed = await platform.fetch('/fn/broken')
    last = `${fixed.status} ${await fixed.text()}`
    return last === '200 fixed'
  }, 15_000, () => `the fixed version does not serve: ${last}`)
})

test('a request body over the gateway limit gets 413, with or without a Content-Length, and the next request is served', { timeout: 30_000 }, async () => {
  const big = Buffer.alloc(7 * 1024 * 1024, 'a')
  // Several times: the caller must read the 413 every time, not a broken
  // connection while it is still sending.
  for (let attempt = 1; attempt <= 3; attempt++) {
    const declared = await fetchOrCause('/fn/throws', { method: 'POST', body: big })
    const problem = await expectProblem(declared, 413, 'ROOST_E_PAYLOAD_TOO_LARGE')
    assert.match(problem.detail, /larger than the limit/)

    // Chunked: the gateway can only count as the bytes arrive.
    const chunks = [big.subarray(0, 4 * 1024 * 1024), big.subarray(4 * 1024 * 1024)]
    const stream = new ReadableStream<Uint8Array>({
      pull (controller) {
        const chunk = chunks.shift()
        if (chunk === undefined) controller.close()
        else controller.enqueue(chunk)
      }
    })
    const chunked = await fetchOrCause('/fn/throws', { method: 'POST', body: stream, duplex: 'half' } as RequestInit)
    await expectProblem(chunked, 413, 'ROOST_E_PAYLOAD_TOO_LARGE')
  }

  const normal = await platform.fetch('/fn/throws', { method: 'POST', body: 'small' })
  assert.equal(normal.status, 200)
  assert.equal(await normal.text(), 'received 5 bytes')
})

/** fetch through the gateway; a network failure fails the test with its cause. */
async function fetchOrCause (path: string, init: RequestInit): Promise<Response> {
  try {
    return await platform.fetch(path, init)
  } catch (err) {
    const cause = (err as { cause?: { code?: string, message?: string } }).cause
    assert.fail(`${init.method ?? 'GET'} ${path}: the caller got ${cause?.code ?? cause?.message ?? String(err)} instead of an HTTP answer`)
  }
}
