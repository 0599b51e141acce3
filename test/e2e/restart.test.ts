// Restarts and neighbours: a platform killed with -9 comes back on the same
// home and ports with everything it had; SIGTERM stops it with its instances;
// one home takes one platform; two homes run side by side; an apply cut off
// by a kill leaves the old state or the new, never a broken one.
import { after, test } from 'node:test'
import assert from 'node:assert/strict'
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { TestPlatform, manifest, waitFor, writeProject } from '../helpers/platform.js'
import {
  call, cliJson, establishedConnectionsTo, instancesOf, ok, portOf, runCliBounded, spawnCli, text, versionsOf, waitForExit,
  type CliChild, type VersionItem
} from '../helpers/e2e.js'

const folders: string[] = []
const running = new Set<TestPlatform>()

after(async () => {
  for (const platform of running) await platform.stop()
  for (const folder of folders) rmSync(folder, { recursive: true, force: true })
})

function project (files: Record<string, string>): string {
  const dir = writeProject(files)
  folders.push(dir)
  return dir
}

async function start (options: { home?: string, ports?: { gateway: number, api: number } } = {}): Promise<TestPlatform> {
  const args = options.ports === undefined ? [] : ['--port', String(options.ports.gateway), '--api-port', String(options.ports.api)]
  const platform = await TestPlatform.start({ home: options.home, args })
  running.add(platform)
  if (options.home === undefined) folders.push(platform.home)
  return platform
}

async function kill (platform: TestPlatform): Promise<void> {
  await platform.kill()
  running.delete(platform)
}

function portsOf (platform: TestPlatform): { gateway: number, api: number } {
  return { gateway: portOf(platform.config.gateway), api: portOf(platform.config.api) }
}

/** A handler that answers `body` and logs a line with the `mark` query parameter. */
function logging (body: string): string {
  return `export default (req: Request) => {
  console.log('served ${body} for', new URL(req.url).searchParams.get('mark'))
  return new Response(${JSON.stringify(body)})
}
`
}

async function allPids (platform: TestPlatform): Promise<number[]> {
  const response = await platform.api('/apis/roost.dev/v1/instances')
  const { items } = await response.json() as { items: Array<{ pid: number | null }> }
  return items.map((item) => item.pid).filter((pid): pid is number => pid !== null)
}

interface StoredFunction { metadata: Record<string, unknown>, spec: unknown }
interface EventItem { id: number, reason: string, message: string }
interface LogItem { id: number, message: string, requestId: string | null, instance: string }

async function getJson<T> (platform: TestPlatform, path: string): Promise<T> {
  const response = await platform.api(path)
  assert.equal(response.status, 200, `GET ${path}: HTTP ${response.status}`)
  return await response.json() as T
}

async function functionsOf (platform: TestPlatform): Promise<StoredFunction[]> {
  const { items } = await getJson<{ items: StoredFunction[] }>(platform, '/apis/roost.dev/v1/functions')
  return items.map((fn) => ({ metadata: fn.metadata, spec: fn.spec }))
}

test('after kill -9 the instances exit by themselves, and up on the same home and ports brings back every function, version, traffic setting, event and log line', async () => {
  const first = await start()
  const ports = portsOf(first)
  const dir = project({
    'keep.ts': logging('one'),
    'other.ts': logging('other'),
    'roost.yaml': manifest('keep', 'source: ./keep.ts\nenv: { KEPT: yes }\nscale: { min: 1, max: 3 }')
  })
  const other = join(dir, 'other.yaml')
  writeFileSync(other, manifest('other', 'source: ./other.ts\nhttp: { path: /other }', '  namespace: team-a\n'))
  const file = join(dir, 'roost.yaml')
  ok(await first.cli(['apply', '-f', file, '--wait']))
  for (const body of ['two', 'three']) {
    writeFileSync(join(dir, 'keep.ts'), logging(body))
    // Each version becomes ready before the next (routes move only to a ready version).
    ok(await first.cli(['apply', '-f', file, '--wait']))
  }
  ok(await first.cli(['apply', '-f', other]))
  assert.match(ok(await first.cli(['rollback', 'keep'])), /from v3 to v2/)
  assert.equal(await text(first, '/fn/keep?mark=before-kill'), 'two')
  assert.equal(await text(first, '/other?mark=before-kill'), 'other')

  const logsPath = '/apis/roost.dev/v1/namespaces/default/functions/keep/logs'
  await waitFor(async () => (await getJson<{ items: LogItem[] }>(first, logsPath)).items.some((line) => line.message === 'served two for before-kill'),
    10_000, () => 'the log line of the request was not stored')
  const before = {
    functions: await functionsOf(first),
    versions: await versionsOf(first, 'keep'),
    otherVersions: await versionsOf(first, 'other', 'team-a'),
    events: (await getJson<{ items: EventItem[] }>(first, '/apis/roost.dev/v1/namespaces/default/functions/keep/events?limit=100')).items,
    logs: (await getJson<{ items: LogItem[] }>(first, logsPath)).items
  }
  assert.deepEqual(before.versions.map((v) => v.traffic), [0, 100, 0])
  assert.ok(before.events.some((event) => event.reason === 'RolledBack'))
  const pids = await allPids(first)
  assert.ok(pids.length >= 2, 'keep (min 1) and other (after its request) run an instance each')

  await kill(first)
  await waitForExit(pids)

  const second = await start({ home: first.home, ports })
  assert.equal(second.config.gateway, first.config.gateway, 'the gateway listens on the same port again')
  assert.equal(second.config.api, first.config.api, 'the API listens on the same port again')
  assert.equal(second.config.token, first.config.token, 'the admin token in config still works')
  assert.doesNotMatch(second.output, /error|warn/i, 'the restart starts cleanly')

  assert.deepEqual(await functionsOf(second), before.functions)
  assert.deepEqual(await versionsOf(second, 'keep'), before.versions, 'versions and their traffic (the rollback) survive')
  assert.deepEqual(await versionsOf(second, 'other', 'team-a'), before.otherVersions)
  assert.equal(await text(second, '/fn/keep?mark=after-restart'), 'two', 'the rolled-back version serves again')
  assert.equal(await text(second, '/other'), 'other')
  assert.equal(await text(second, '/fn/other.team-a'), 'other')

  const events = (await getJson<{ items: EventItem[] }>(second, '/apis/roost.dev/v1/namespaces/default/functions/keep/events?limit=100')).items
  for (const event of before.events) {
    assert.ok(events.some((e) => e.id === event.id && e.reason === event.reason && e.message === event.message), `event ${event.reason} "${event.message}" survives`)
  }
  const logs = (await getJson<{ items: LogItem[] }>(second, logsPath)).items
  for (const line of before.logs) {
    assert.ok(logs.some((l) => l.id === line.id && l.message === line.message), `log line "${line.message}" survives`)
  }
  const printed = ok(await second.cli(['logs', 'keep']))
  assert.ok(printed.includes('served two for before-kill'), printed)
  assert.match(ok(await second.cli(['get', 'versions', 'keep'])), /^v2\s+100%/m)
  await waitFor(async () => (await instancesOf(second, 'keep')).some((i) => i.state === 'ready'), 15_000, () => 'keep (min 1) has no ready instance after the restart')
})

test('a second roost up on the same ROOST_HOME fails naming the running pid, and leaves the first undisturbed', async () => {
  const platform = await start()
  const dir = project({ 'calm.ts': logging('calm'), 'roost.yaml': manifest('calm', 'source: ./calm.ts\nscale: { min: 1 }') })
  ok(await platform.cli(['apply', '-f', join(dir, 'roost.yaml')]))
  assert.equal(await text(platform, '/fn/calm'), 'calm')
  const configBefore = readFileSync(join(platform.home, 'config'), 'utf8')
  const pidsBefore = await allPids(platform)

  const second = await runCliBounded(platform.home, ['up', '--port', '0', '--api-port', '0'], 20_000)
  assert.equal(second.timedOut, false, `a second up kept running:\n${second.stdout}${second.stderr}`)
  assert.notEqual(second.code, 0)
  assert.match(second.stderr, new RegExp(`^error: .*\\b${platform.pid}\\b`, 'm'), `the error names the running platform's pid ${platform.pid}:\n${second.stderr}`)
  assert.match(second.stderr, /^hint: /m)

  assert.equal(readFileSync(join(platform.home, 'config'), 'utf8'), configBefore, 'config still points at the first platform')
  assert.equal(await text(platform, '/fn/calm'), 'calm')
  assert.deepEqual(await allPids(platform), pidsBefore, 'the instances are the same')
  assert.match(ok(await platform.cli(['get', 'functions'])), /^calm\s/m)
})

test('SIGTERM stops the platform with exit code 0 and leaves no instance process', async () => {
  const platform = await start()
  const dir = project({ 'pair.ts': logging('pair'), 'roost.yaml': manifest('pair', 'source: ./pair.ts\nscale: { min: 2 }') })
  ok(await platform.cli(['apply', '-f', join(dir, 'roost.yaml')]))
  await waitFor(async () => (await instancesOf(platform, 'pair')).filter((i) => i.state === 'ready').length === 2, 15_000, () => 'pair has not two ready instances')
  const pids = await allPids(platform)
  assert.equal(pids.length, 2)

  const code = await platform.stop({ keepHome: true })
  running.delete(platform)
  assert.equal(code, 0, platform.output)
  assert.match(platform.output, /roost stopped/)
  await waitForExit(pids, 0)
  assert.equal(existsSync(join(platform.home, 'roost.pid')), false, 'the home is unlocked')
})

test('SIGTERM stops the platform even while `roost logs -f` follows a function, and the follower ends cleanly', { timeout: 60_000 }, async () => {
  const platform = await start()
  const dir = project({ 'tail.ts': logging('tail'), 'roost.yaml': manifest('tail', 'source: ./tail.ts\nscale: { min: 1 }') })
  ok(await platform.cli(['apply', '-f', join(dir, 'roost.yaml')]))
  await text(platform, '/fn/tail')
  const follower = spawnCli(platform.home, ['logs', 'tail', '-f'])
  await waitFor(() => follower.stdout.includes('tail'), 15_000, () => `the follower printed nothing: ${follower.stderr}`)

  const code = await platform.stop({ keepHome: true })
  running.delete(platform)
  assert.equal(code, 0, platform.output)
  assert.equal(await follower.exited, 0, follower.stderr)
})

test('two platforms with different homes run side by side, each serving only its own functions', async () => {
  const [a, b] = await Promise.all([start(), start()])
  const dirA = project({ 'twin.ts': logging('from a'), 'only.ts': logging('only a') })
  const dirB = project({ 'twin.ts': logging('from b'), 'only.ts': logging('only b') })
  for (const [dir, side] of [[dirA, 'a'], [dirB, 'b']]) {
    writeFileSync(join(dir, 'roost.yaml'), manifest('twin', 'source: ./twin.ts') + '---\n' + manifest(`only-${side}`, 'source: ./only.ts'))
  }
  ok(await a.cli(['apply', '-f', join(dirA, 'roost.yaml')]))
  ok(await b.cli(['apply', '-f', join(dirB, 'roost.yaml')]))

  assert.equal(await text(a, '/fn/twin'), 'from a')
  assert.equal(await text(b, '/fn/twin'), 'from b')
  assert.equal(await text(a, '/fn/only-a'), 'only a')
  assert.equal(await text(b, '/fn/only-b'), 'only b')
  assert.equal((await call(a, '/fn/only-b')).status, 404)
  assert.equal((await call(b, '/fn/only-a')).status, 404)

  assert.equal(ok(await a.cli(['invoke', 'twin'])), 'from a', 'the CLI with a\'s ROOST_HOME talks to a')
  assert.equal(ok(await b.cli(['invoke', 'twin'])), 'from b', 'the CLI with b\'s ROOST_HOME talks to b')
  const names = async (platform: TestPlatform): Promise<string[]> =>
    (await cliJson<Array<{ metadata: { name: string } }>>(platform, ['get', 'functions'])).map((fn) => fn.metadata.name).sort()
  assert.deepEqual(await names(a), ['only-a', 'twin'])
  assert.deepEqual(await names(b), ['only-b', 'twin'])
  assert.equal((await versionsOf(a, 'twin')).length, 1)

  const pidsA = await allPids(a)
  const pidsB = await allPids(b)
  assert.equal(pidsA.length, 2)
  assert.equal(pidsB.length, 2)
  assert.ok(pidsA.every((pid) => !pidsB.includes(pid)))

  // Stopping one leaves the other serving.
  assert.equal(await a.stop(), 0)
  running.delete(a)
  await waitForExit(pidsA, 0)
  assert.equal(await text(b, '/fn/twin'), 'from b')
  assert.deepEqual((await allPids(b)).sort(), pidsB.sort())
})

// The moments at which the platform is killed while an apply of a new version is under way.
type Moment = 'cli-spawned' | 'cli-connected' | 'body-in-flight' | 'request-sent' | 'bundle-written' | 'response-received'
const MOMENTS: Moment[] = ['cli-spawned', 'cli-connected', 'body-in-flight', 'request-sent', 'bundle-written', 'response-received']

/** Files under the platform's blob folder (finished blobs and writes in progress). */
function blobEntries (home: string): Set<string> {
  const dir = join(home, 'data', 'blobs')
  return new Set(existsSync(dir) ? readdirSync(dir, { recursive: true }).map(String) : [])
}

/** Resolves once a file appears in the blob folder that was not there before, or `done` settles. */
async function whenNewBlob (home: string, baseline: Set<string>, done: Promise<unknown>): Promise<void> {
  let settled = false
  void done.finally(() => { settled = true })
  const deadline = Date.now() + 20_000
  while (!settled && [...blobEntries(home)].every((entry) => baseline.has(entry))) {
    if (Date.now() > deadline) throw new Error('the apply stored no bundle')
    await new Promise((resolve) => setImmediate(resolve))
  }
}

/** PUTs a manifest with inline code; calls `onMoment` when the request reaches `moment`. */
function putInline (platform: TestPlatform, code: string, moment: Moment | null, onMoment: () => void): Promise<number | null> {
  // A large comment makes the body take a while to send and to parse.
  const inline = `${code}\n// ${'padding '.repeat(256 * 1024)}\n`
  const body = JSON.stringify({ manifest: { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'torn' }, spec: { source: { inline, loader: 'ts' } } } })
  return new Promise((resolve) => {
    const req = request(`${platform.config.api}/apis/roost.dev/v1/namespaces/default/functions/torn`, {
      method: 'PUT',
      agent: false,
      headers: { authorization: `Bearer ${platform.config.token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }
    })
    req.on('socket', (socket) => socket.once('connect', () => { if (moment === 'body-in-flight') onMoment() }))
    req.on('finish', () => { if (moment === 'request-sent') onMoment() })
    req.on('response', (response) => {
      if (moment === 'response-received') onMoment()
      response.resume()
      response.on('end', () => resolve(response.statusCode ?? null))
      response.on('error', () => resolve(response.statusCode ?? null))
    })
    req.on('error', () => resolve(null))
    req.end(body)
  })
}

/** Resolves once the apply CLI has a connection open to the API, or has exited. */
async function whenConnected (cli: CliChild, apiPort: number, baseline: number): Promise<void> {
  const deadline = Date.now() + 20_000
  while (cli.running && establishedConnectionsTo(apiPort) <= baseline) {
    if (Date.now() > deadline) throw new Error('the apply never connected to the API')
    await new Promise((resolve) => setImmediate(resolve))
  }
}

test('an apply cut off by kill -9 leaves the old version or the new one, never a broken state', async (t) => {
  let platform = await start()
  const home = platform.home
  const ports = portsOf(platform)
  const dir = project({ 'torn.ts': logging('v-start'), 'roost.yaml': manifest('torn', 'source: ./torn.ts') })
  const file = join(dir, 'roost.yaml')
  ok(await platform.cli(['apply', '-f', file]))
  let served = await text(platform, '/fn/torn')
  assert.equal(served, 'v-start')

  for (const [attempt, moment] of MOMENTS.entries()) {
    const body = `attempt ${attempt} (${moment})`
    const code = logging(body)
    const before = await versionsOf(platform, 'torn')
    let cli: CliChild | undefined
    let status: number | null = null

    if (moment === 'cli-spawned' || moment === 'cli-connected') {
      // A large bundle keeps the request busy on the platform for a while.
      writeFileSync(join(dir, 'torn.ts'), `${code}export const padding = '${'padding '.repeat(512 * 1024)}'\n`)
      // The test's own keep-alive connections to the API are not the CLI's.
      const baseline = establishedConnectionsTo(ports.api)
      cli = spawnCli(home, ['apply', '-f', file])
      if (moment === 'cli-connected') await whenConnected(cli, ports.api, baseline)
      await kill(platform)
      await cli.exited
    } else if (moment === 'bundle-written') {
      const baseline = blobEntries(home)
      const put = putInline(platform, code, null, () => {})
      await whenNewBlob(home, baseline, put)
      await kill(platform)
      status = await put
    } else {
      let killed: Promise<void> | undefined
      status = await putInline(platform, code, moment, () => { killed ??= kill(platform) })
      await (killed ?? kill(platform))
    }

    platform = await start({ home, ports })
    const after = await cliJson<VersionItem[]>(platform, ['get', 'versions', 'torn'])
    const outcome = `after a kill at ${moment}: versions ${before.length} → ${after.length}, apply status ${String(status)}, CLI said ${cli?.stdout ?? ''}${cli?.stderr ?? ''}`
    t.diagnostic(outcome)
    assert.ok(after.length === before.length || after.length === before.length + 1, outcome)
    assert.deepEqual(after.slice(0, before.length).map((v) => [v.number, v.bundleHash]), before.map((v) => [v.number, v.bundleHash]), `old versions are intact ${outcome}`)
    assert.deepEqual(after.map((v) => v.number), after.map((_, i) => i + 1), `version numbers have no gap ${outcome}`)
    assert.equal(after[after.length - 1].traffic, 100, `the latest version has the traffic ${outcome}`)
    if (moment === 'response-received') assert.equal(after.length, before.length + 1, `an answered apply is durable ${outcome}`)
    const now = await text(platform, '/fn/torn')
    if (after.length === before.length) assert.equal(now, served, `the old version still serves ${outcome}`)
    else assert.equal(now, body, `the new version serves ${outcome}`)
    const fn = await getJson<{ status: { latestVersion: number } }>(platform, '/apis/roost.dev/v1/namespaces/default/functions/torn')
    assert.equal(fn.status.latestVersion, after.length, outcome)

    // Applying the same change again completes it, exactly once.
    if (cli !== undefined) {
      const again = ok(await platform.cli(['apply', '-f', file]))
      assert.match(again, after.length === before.length ? new RegExp(`configured \\(v${before.length + 1}\\)`) : /unchanged/, outcome)
    } else {
      assert.ok([200, 201].includes(await putInline(platform, code, null, () => {}) ?? 0), outcome)
    }
    assert.equal((await versionsOf(platform, 'torn')).length, before.length + 1, `the re-apply completes the change ${outcome}`)
    // Traffic moves to the new version once it has a ready instance.
    await waitFor(async () => await text(platform, '/fn/torn') === body, 10_000, () => `the re-applied version does not serve ${outcome}`)
    served = body
  }
})
