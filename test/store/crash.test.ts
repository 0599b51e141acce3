import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { BLOB_FOLDER, DATABASE_FILE, Store } from '../../src/store/index.js'
import type { StoredResource } from '../../src/store/index.js'

// A writer in its own process: each loop is one transaction touching every
// table, followed by a "committed <i>" line once the commit has returned. The
// parent kills it with SIGKILL at a random moment, mid-write.
const WRITER = `
const [dir, startArg, storeUrl] = process.argv.slice(1)
const { Store } = await import(storeUrl)
const store = Store.open(dir)
for (let i = Number(startArg); ; i++) {
  const payload = 'x'.repeat((i * 7919) % 6000) // varied sizes, so commits span pages
  const hash = store.blobs.put('bundle ' + i + ' ' + payload)
  store.transaction(() => {
    store.putResource('Function', 'crash', 'fn-' + i, { spec: { i, hash, payload }, labels: { app: 'crash' } })
    store.putStatus('Function', 'crash', 'fn-' + i, { i })
    store.putResource('Function', 'crash', 'counter', { spec: { i }, labels: {} })
    store.insertVersion('crash', 'counter', { bundleHash: hash, configHash: String(i), config: { i } })
    store.appendLogs([0, 1, 2].map((n) => ({
      time: Date.now(), namespace: 'crash', function: 'counter', version: 1, instance: 'w',
      requestId: null, level: 'info', stream: 'console', message: 'line ' + i + '.' + n
    })))
    store.recordEvent({ namespace: 'crash', kind: 'Function', name: 'counter', type: 'Normal', reason: 'Wrote', message: String(i) })
  })
  process.stdout.write('committed ' + i + '\\n') // pipes are synchronous on Linux: in order, before the next loop
}
`

interface Round {
  reported: number[]
  stderr: string
}

// Runs the writer from `start`, kills it some time after `killAfter` commits
// were reported, and returns every commit it reported before dying.
function runWriterUntilKilled (dir: string, start: number, killAfter: number): Promise<Round> {
  const storeUrl = new URL('../../src/store/index.js', import.meta.url).href
  const child = spawn(process.execPath, ['--input-type=module', '-e', WRITER, dir, String(start), storeUrl], {
    stdio: ['ignore', 'pipe', 'pipe']
  })
  const reported: number[] = []
  let stderr = ''
  let killScheduled = false
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  createInterface({ input: child.stdout }).on('line', (line) => {
    const match = /^committed (\d+)$/.exec(line)
    if (match !== null) reported.push(Number(match[1]))
    if (!killScheduled && reported.length >= killAfter) {
      killScheduled = true
      setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 25))
    }
  })
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') {
        reject(new Error(`writer ended by itself (code ${String(code)}): ${stderr}`))
        return
      }
      resolve({ reported, stderr })
    })
  })
}

function integrityCheck (dir: string): string {
  // a plain connection, before the store touches the file: it replays the WAL
  // exactly as the crash left it
  const db = new Database(join(dir, DATABASE_FILE))
  try {
    return db.pragma('integrity_check', { simple: true }) as string
  } finally {
    db.close()
  }
}

function allBlobsVerify (store: Store): string[] {
  const broken: string[] = []
  for (const shard of readdirSync(join(store.dir, BLOB_FOLDER))) {
    if (shard === 'tmp') continue
    for (const hash of readdirSync(join(store.dir, BLOB_FOLDER, shard))) {
      if (!store.blobs.verify(hash)) broken.push(hash)
    }
  }
  return broken
}

// Everything a reported commit wrote is there; every transaction that got in
// at all got in whole.
function checkState (store: Store, reported: readonly number[]): number {
  const resources = store.listResources<{ i: number, hash: string }, { i: number }>('Function', 'crash')
    .filter((r) => r.name !== 'counter')
  const byIndex = new Map<number, StoredResource<{ i: number, hash: string }, { i: number }>>()
  for (const r of resources) byIndex.set(r.spec.i, r)
  const versions = new Map(store.listVersions<{ i: number }>('crash', 'counter').map((v) => [v.config.i, v]))
  const logs = new Set(store.queryLogs({ namespace: 'crash', function: 'counter', limit: 1_000_000 }).map((l) => l.message))
  const events = new Set(store.listEvents({ namespace: 'crash', kind: 'Function', name: 'counter', limit: 1_000_000 }).map((e) => e.message))

  for (const i of reported) {
    const resource = byIndex.get(i)
    assert.ok(resource !== undefined, `reported commit ${i} lost its resource`)
    assert.deepEqual(resource.status, { i })
    assert.ok(versions.has(i), `reported commit ${i} lost its version`)
    assert.ok(store.blobs.verify(resource.spec.hash), `reported commit ${i} lost its blob`)
    for (const n of [0, 1, 2]) assert.ok(logs.has(`line ${i}.${n}`), `reported commit ${i} lost log line ${n}`)
    assert.ok(events.has(String(i)), `reported commit ${i} lost its event`)
  }
  // atomicity: each resource that exists came with all its companions
  assert.equal(versions.size, resources.length)
  assert.equal(logs.size, 3 * resources.length)
  assert.equal(events.size, resources.length)
  for (const r of resources) assert.deepEqual(r.status, { i: r.spec.i }, `fn-${r.spec.i} is there without its status`)
  const highest = Math.max(...byIndex.keys())
  assert.equal(store.getResource<{ i: number }>('Function', 'crash', 'counter')?.spec.i, highest)
  // version numbers stayed a gap-free sequence in commit order
  const numbers = [...versions.values()].sort((a, b) => a.config.i - b.config.i).map((v) => v.number)
  assert.deepEqual(numbers, numbers.map((_, k) => k + 1))
  assert.deepEqual(allBlobsVerify(store), [])
  return highest
}

test('a writer killed with SIGKILL mid-write loses no reported commit and leaves a sound database', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'roost-crash-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const allReported: number[] = []
  let next = 0
  for (let round = 0; round < 3; round++) {
    const { reported } = await runWriterUntilKilled(dir, next, 150 + Math.floor(Math.random() * 150))
    assert.ok(reported.length >= 150, `round ${round}: the writer reported only ${reported.length} commits`)
    allReported.push(...reported)
    assert.equal(integrityCheck(dir), 'ok', `round ${round}: integrity check`)
    const store = Store.open(dir)
    try {
      const highest = checkState(store, allReported)
      // the commit in flight at the kill may or may not have made it, nothing later can
      assert.ok(highest >= Math.max(...reported) && highest <= Math.max(...reported) + 1)
      next = highest + 1
    } finally {
      store.close()
    }
  }
})
