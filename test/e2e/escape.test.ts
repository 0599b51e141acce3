// The escape suite: functions deployed by a hostile tenant (team-a, with a
// namespace token) try to harm the platform, another tenant (`victim` in
// `default`) or read what is not theirs. Each attack reports what it
// managed; nothing may succeed, and the victim keeps answering throughout.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { TestPlatform, isAlive, manifest, waitFor, writeProject } from '../helpers/platform.js'

const VICTIM_SECRET = 'victim-secret-5d1e-opensesame'
const VICTIM_MARKER = 'victim-bundle-marker-9c2b'

const VICTIM_JS = `
export default () => new Response('alive ${VICTIM_MARKER}')
`

// Reads everything an attacker would try, reporting what it could read.
const READER_JS = `
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

function attempt (what, fn) {
  try { return { what, ok: true, value: String(fn()).slice(0, 4096) } } catch (err) { return { what, ok: false, error: err.code ?? String(err) } }
}

function walk (dir, depth, out) {
  if (depth < 0 || out.length > 200) return
  let names = []
  try { names = readdirSync(dir) } catch { return }
  for (const name of names) {
    const path = join(dir, name)
    let stat
    try { stat = statSync(path) } catch { continue }
    if (stat.isDirectory()) walk(path, depth - 1, out)
    else if (name.endsWith('.mjs') || name.endsWith('.db') || name === 'config' || name.endsWith('.key')) out.push(path)
  }
}

export default () => {
  const home = process.env.ATTACK_HOME
  const results = [
    attempt('platform environ', () => readFileSync('/proc/' + process.ppid + '/environ', 'latin1')),
    attempt('victim environ', () => readFileSync('/proc/' + process.env.VICTIM_PID + '/environ', 'latin1')),
    attempt('config', () => readFileSync(join(home, 'config'), 'utf8')),
    attempt('database', () => readFileSync(join(home, 'data', 'roost.db'), 'latin1')),
    attempt('database wal', () => readFileSync(join(home, 'data', 'roost.db-wal'), 'latin1')),
    attempt('home listing', () => readdirSync(home).join(','))
  ]
  const files = []
  walk(tmpdir(), 5, files)
  walk(home, 4, files)
  for (const file of files) results.push(attempt('file ' + file, () => readFileSync(file, 'latin1')))
  return Response.json(results)
}
`

// Signals the platform and the victim's instance, every way it can.
const SIGNALLER_JS = `
function attempt (what, fn) {
  try { fn(); return { what, ok: true } } catch (err) { return { what, ok: false, error: err.code ?? String(err) } }
}
export default () => {
  const victim = Number(process.env.VICTIM_PID)
  return Response.json([
    attempt('SIGSTOP the platform', () => process.kill(process.ppid, 'SIGSTOP')),
    attempt('SIGKILL the platform', () => process.kill(process.ppid, 'SIGKILL')),
    attempt('SIGKILL the platform group', () => process.kill(-process.ppid, 'SIGKILL')),
    attempt('SIGKILL the victim', () => process.kill(victim, 'SIGKILL')),
    attempt('SIGKILL the victim group', () => process.kill(-victim, 'SIGKILL'))
  ])
}
`

// Leaves a process behind: detached, in a session of its own.
const SPAWNER_JS = `
import { spawn } from 'node:child_process'
export default () => {
  const child = spawn('sleep', ['600'], { detached: true, stdio: 'ignore' })
  child.unref()
  return Response.json({ pid: child.pid })
}
`

// Forks until the kernel says no.
const FORKER_JS = `
import { spawn } from 'node:child_process'
export default async () => {
  let started = 0
  let error = null
  for (let i = 0; i < 2000; i++) {
    try {
      const child = spawn('sleep', ['600'], { stdio: 'ignore' })
      const failed = await new Promise((resolve) => { child.once('spawn', () => resolve(null)); child.once('error', (err) => resolve(err)) })
      if (failed !== null) { error = failed.code ?? String(failed); break }
      started++
    } catch (err) { error = err.code ?? String(err); break }
  }
  return Response.json({ started, error })
}
`

// Holds memory outside the V8 heap, which --max-old-space-size does not bound.
const HOARDER_JS = `
const hoard = []
export default () => {
  for (let i = 0; i < 150; i++) hoard.push(Buffer.alloc(10 * 1024 * 1024, 1))
  return new Response('held ' + hoard.length * 10 + ' MB')
}
`

const SPIN_AT_LOAD_JS = `
while (true) {}
export default () => new Response('never')
`

// Looks for any socket of the platform or its instances and tries to talk to it directly.
const PROBER_JS = `
import { readFileSync } from 'node:fs'
import { connect, createServer } from 'node:net'
function tryConnect (path) {
  return new Promise((resolve) => {
    const socket = connect(path)
    const done = (result) => { socket.destroy(); resolve(result) }
    socket.once('connect', () => done({ path, connected: true }))
    socket.once('error', (err) => done({ path, connected: false, error: err.code }))
    setTimeout(() => done({ path, connected: false, error: 'timeout' }), 1000)
  })
}
export default async () => {
  const paths = readFileSync('/proc/net/unix', 'utf8').split('\\n').slice(1)
    .map((line) => line.trim().split(/\\s+/)[7]).filter((path) => path !== undefined && path.startsWith('/') && path.includes('roost'))
  const results = []
  for (const path of [...new Set(paths)]) results.push(await tryConnect(path))
  const listening = await new Promise((resolve) => {
    const server = createServer().listen(0, '0.0.0.0', () => { const port = server.address().port; server.close(); resolve(port) })
    server.once('error', (err) => resolve(err.code))
  })
  return Response.json({ results, listening })
}
`

// Writes on the control channel and floods its output.
const NOISE_JS = `
import { writeSync } from 'node:fs'
export default (req) => {
  const what = new URL(req.url).pathname
  if (what === '/garbage') writeSync(3, Buffer.from('\\u0000\\u0000\\u0000\\u0007garbage!!!!'))
  if (what === '/huge-frame') writeSync(3, Buffer.from([0x7f, 0xff, 0xff, 0xff, 32, 0, 0, 0, 0]))
  if (what === '/bad-json') { const body = Buffer.from('{"t":"logs","lines":[{"level":null,"message":{}}]'); const head = Buffer.alloc(9); head.writeUInt32BE(body.length + 5); head[4] = 32; writeSync(3, Buffer.concat([head, body])) }
  if (what === '/ipc') { process.send?.({ t: 'logs', lines: [{ level: null, message: 42 }] }) }
  if (what === '/no-newline') { const chunk = 'x'.repeat(1024 * 1024); for (let i = 0; i < 600; i++) process.stdout.write(chunk) }
  if (what === '/log-flood') { for (let i = 0; i < 200000; i++) console.log('flood line ' + i) }
  return new Response('sent ' + what)
}
`

let platform: TestPlatform
let project: string
let teamToken: string
let victimPid: number

before(async () => {
  platform = await TestPlatform.start()
  project = writeProject({
    'victim.js': VICTIM_JS,
    'victim.yaml': manifest('victim', `source: ./victim.js\nenv: { SECRET: ${VICTIM_SECRET} }\nscale: { min: 1, max: 1 }\nhttp: { path: /victim/app }`)
  })
  const applied = await platform.cli(['apply', '-f', join(project, 'victim.yaml'), '--wait'])
  assert.equal(applied.code, 0, applied.stderr)
  const created = await platform.cli(['token', 'create', '-n', 'team-a'])
  assert.equal(created.code, 0, created.stderr)
  teamToken = created.stdout.trim()
  const [victim] = (await platform.instances()).filter((instance) => instance.function === 'victim' && instance.state === 'ready')
  assert.ok(victim !== undefined, 'the victim has a ready instance')
  victimPid = victim.pid
})

after(async () => {
  await platform?.stop()
  if (project !== undefined) rmSync(project, { recursive: true, force: true })
})

/** Deploys an attacker in team-a with the team's token and waits until it serves. */
async function deployAttacker (name: string, code: string, extraSpec = ''): Promise<void> {
  const env = `env: { ATTACK_HOME: "${platform.home}", VICTIM_PID: "${victimPid}" }`
  const files = writeProject({
    [`${name}.js`]: code,
    'roost.yaml': manifest(name, `source: ./${name}.js\n${env}\nscale: { min: 1, max: 1 }\n${extraSpec}`, '  namespace: team-a\n')
  })
  try {
    const applied = await platform.cli(['apply', '-f', join(files, 'roost.yaml'), '--wait', '--timeout', '30s'], { env: { ROOST_TOKEN: teamToken } })
    assert.equal(applied.code, 0, `apply ${name}: ${applied.stderr}`)
  } finally {
    rmSync(files, { recursive: true, force: true })
  }
}

async function attack<T> (name: string, path = ''): Promise<{ status: number, body: T }> {
  const response = await platform.fetch(`/fn/${name}.team-a${path}`)
  const text = await response.text()
  let body: unknown = text
  try { body = JSON.parse(text) } catch {}
  return { status: response.status, body: body as T }
}

/** The platform, its API and the victim all still answer. */
async function victimStillServes (): Promise<void> {
  assert.ok(isAlive(platform.pid), 'the platform process is alive')
  const stat = readFileSync(`/proc/${platform.pid}/stat`, 'utf8')
  assert.notEqual(stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3), 'T', 'the platform is not stopped')
  const response = await platform.fetch('/victim/app')
  assert.equal(response.status, 200)
  assert.match(await response.text(), /^alive /)
  const api = await platform.api('/apis/roost.dev/v1/namespaces/default/functions/victim')
  assert.equal(api.status, 200, 'the API answers')
}

interface Attempt { what: string, ok: boolean, value?: string, error?: string }

test('a function cannot read the platform\'s environment, config, database, or another function\'s env and bundle', async () => {
  await deployAttacker('reader', READER_JS)
  const { status, body } = await attack<Attempt[]>('reader')
  assert.equal(status, 200)
  for (const result of body) {
    assert.equal(result.ok && /environ|config|database|home listing/.test(result.what), false, `${result.what} was readable: ${result.value?.slice(0, 200)}`)
    const value = result.value ?? ''
    assert.ok(!value.includes(platform.config.token), `${result.what} leaked the admin token`)
    assert.ok(!value.includes(VICTIM_SECRET), `${result.what} leaked the victim's env`)
    assert.ok(!value.includes(VICTIM_MARKER), `${result.what} leaked the victim's bundle`)
  }
  await victimStillServes()
})

test('a function cannot signal the platform or another tenant\'s instance', async () => {
  await deployAttacker('signaller', SIGNALLER_JS)
  const { status, body } = await attack<Attempt[]>('signaller')
  assert.equal(status, 200)
  for (const result of body) assert.equal(result.ok, false, `${result.what} succeeded`)
  assert.ok(isAlive(victimPid), 'the victim instance lives')
  await victimStillServes()
})

test('processes a function starts end with its instance, even detached', async () => {
  await deployAttacker('spawner', SPAWNER_JS)
  const { status, body } = await attack<{ pid: number }>('spawner')
  assert.equal(status, 200)
  assert.ok(isAlive(body.pid), 'the child runs while its instance does')
  const deleted = await platform.cli(['delete', 'function', 'spawner', '-n', 'team-a'], { env: { ROOST_TOKEN: teamToken } })
  assert.equal(deleted.code, 0, deleted.stderr)
  await waitFor(() => !isAlive(body.pid), 15_000, () => `the detached child ${body.pid} outlived its deleted function`)
  await victimStillServes()
})

test('forking without bound stops at the instance\'s process cap', async () => {
  await deployAttacker('forker', FORKER_JS)
  const { status, body } = await attack<{ started: number, error: string | null }>('forker')
  assert.equal(status, 200)
  assert.ok(body.started < 200, `the instance started ${body.started} processes`)
  assert.notEqual(body.error, null, 'the kernel refused a process at some point')
  await victimStillServes()
})

test('memory outside the V8 heap is bounded by spec.memory: the instance ends, reported as out of memory', async () => {
  await deployAttacker('hoarder', HOARDER_JS, 'memory: 128Mi')
  const { status } = await attack<string>('hoarder')
  assert.equal(status, 502)
  await waitFor(async () => {
    const events = await platform.api('/apis/roost.dev/v1/namespaces/team-a/functions/hoarder/events')
    return /out of memory/i.test(await events.text())
  }, 15_000, () => 'no event says the hoarder ran out of memory')
  await victimStillServes()
})

test('a module that spins while loading is stopped by the start timeout and reported', async () => {
  const files = writeProject({
    'spin.js': SPIN_AT_LOAD_JS,
    'roost.yaml': manifest('spinner', 'source: ./spin.js\nscale: { min: 1, max: 1 }', '  namespace: team-a\n')
  })
  try {
    const applied = await platform.cli(['apply', '-f', join(files, 'roost.yaml'), '--wait', '--timeout', '40s'], { env: { ROOST_TOKEN: teamToken } })
    assert.notEqual(applied.code, 0, 'apply --wait fails for a version that never loads')
    const described = await platform.cli(['describe', 'function', 'spinner', '-n', 'team-a'], { env: { ROOST_TOKEN: teamToken } })
    assert.match(described.stdout, /did not finish loading/)
  } finally {
    rmSync(files, { recursive: true, force: true })
  }
  await victimStillServes()
})

test('instances are reachable only through the gateway', async () => {
  await deployAttacker('prober', PROBER_JS)
  const { status, body } = await attack<{ results: Array<{ path: string, connected: boolean }>, listening: unknown }>('prober')
  assert.equal(status, 200)
  for (const result of body.results) assert.equal(result.connected, false, `connected to ${result.path}`)
  await victimStillServes()
})

for (const [path, what] of [['/garbage', 'raw bytes on the control channel'], ['/huge-frame', 'an oversized frame'], ['/bad-json', 'a malformed log message'], ['/ipc', 'a process.send of a malformed log']] as const) {
  test(`${what} ends at most that instance`, async () => {
    await deployAttacker('noise', NOISE_JS)
    await attack(path.slice(1) === 'ipc' ? 'noise' : 'noise', path)
    await victimStillServes()
    if (path !== '/ipc') {
      await waitFor(async () => {
        const events = await platform.api('/apis/roost.dev/v1/namespaces/team-a/functions/noise/events')
        return /ProtocolViolation/.test(await events.text())
      }, 10_000, () => `no ProtocolViolation event after ${what}`)
    }
  })
}

test('600 MiB on stdout without a newline and a flood of log lines do not stop the platform', async () => {
  await deployAttacker('noise', NOISE_JS)
  assert.equal((await attack('noise', '/log-flood')).status, 200)
  await waitFor(async () => {
    const logs = await platform.cli(['logs', 'noise', '-n', 'team-a'], { env: { ROOST_TOKEN: teamToken } })
    return logs.code === 0 && /log lines dropped/.test(logs.stdout)
  }, 10_000, () => 'the flood is cut, and the logs say so')
  // node queues what a pipe cannot take at once in the process's own memory: the
  // instance may end by its memory limit, the platform and the victim may not.
  await attack('noise', '/no-newline')
  await victimStillServes()
})

test('a namespace cannot route under, over or at another namespace\'s path', async () => {
  for (const path of ['/victim/app', '/victim/app/login', '/victim']) {
    const files = writeProject({
      'hello.js': 'export default () => new Response("mine")\n',
      'roost.yaml': manifest('squatter', `source: ./hello.js\nhttp: { path: ${path} }`, '  namespace: team-a\n')
    })
    try {
      const applied = await platform.cli(['apply', '-f', join(files, 'roost.yaml')], { env: { ROOST_TOKEN: teamToken } })
      assert.notEqual(applied.code, 0, `team-a could route ${path}`)
      assert.match(applied.stderr, /victim|reserved/, `the refusal names the owner: ${applied.stderr}`)
    } finally {
      rmSync(files, { recursive: true, force: true })
    }
  }
  await victimStillServes()
})

test('a namespace cannot claim a custom domain: only the admin gives a function spec.http.host', async () => {
  const files = writeProject({
    'hello.js': 'export default () => new Response("mine")\n',
    'roost.yaml': manifest('hijacker', 'source: ./hello.js\nhttp: { host: 127.0.0.1 }', '  namespace: team-a\n')
  })
  try {
    const applied = await platform.cli(['apply', '-f', join(files, 'roost.yaml')], { env: { ROOST_TOKEN: teamToken } })
    assert.notEqual(applied.code, 0, 'team-a took the host every caller of the gateway uses')
    assert.match(applied.stderr, /spec\.http\.host/)
  } finally {
    rmSync(files, { recursive: true, force: true })
  }
  await victimStillServes()
})
