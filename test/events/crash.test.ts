import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { test } from 'node:test'
import Database from 'better-sqlite3'
import { EVENTS_DATABASE_FILE, EventStore } from '../../src/events/index.js'

// A publisher and consumer in their own process, on the default durability
// (synchronous = FULL). Each loop publishes a batch of five records, then
// leases up to three and acknowledges them in one settle; after each call
// returned it writes a line saying so ("published 7", "acked m-3-1 m-3-2").
// The parent kills it with SIGKILL at a random moment, mid-batch.
const WORKER = `
const [dir, startArg, eventsUrl] = process.argv.slice(1)
const { EventStore } = await import(eventsUrl)
const store = EventStore.open(dir)
store.declareQueue('crash', 'orders', { maxDepth: 100000 })
for (let i = Number(startArg); ; i++) {
  const batch = [0, 1, 2, 3, 4].map((k) => ({ id: 'm-' + i + '-' + k, body: { i, k, pad: 'x'.repeat((i * 7919 + k) % 3000) } }))
  store.publish('crash', 'orders', batch)
  process.stdout.write('published ' + i + '\\n') // pipes are synchronous on Linux: in order, before the next call
  const leased = store.lease('crash', 'orders', { max: 3, leaseMs: 60000, consumer: 'worker' })
  store.settle(leased.map((r) => ({ id: r.id, token: r.token, outcome: 'succeeded' })))
  process.stdout.write('acked ' + leased.map((r) => r.id).join(' ') + '\\n')
}
`

interface Round {
  published: number[]
  acked: string[]
}

function runUntilKilled (dir: string, start: number, killAfter: number): Promise<Round> {
  const eventsUrl = new URL('../../src/events/index.js', import.meta.url).href
  const child = spawn(process.execPath, ['--input-type=module', '-e', WORKER, dir, String(start), eventsUrl], { stdio: ['ignore', 'pipe', 'pipe'] })
  const round: Round = { published: [], acked: [] }
  let stderr = ''
  let killScheduled = false
  child.stderr.on('data', (chunk: Buffer) => { stderr += chunk.toString() })
  createInterface({ input: child.stdout }).on('line', (line) => {
    const [word, ...rest] = line.split(' ')
    if (word === 'published') round.published.push(Number(rest[0]))
    if (word === 'acked') round.acked.push(...rest.filter((id) => id !== ''))
    if (!killScheduled && round.published.length >= killAfter) {
      killScheduled = true
      setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 25))
    }
  })
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') reject(new Error(`the worker ended by itself (code ${String(code)}): ${stderr}`))
      else resolve(round)
    })
  })
}

function integrityCheck (dir: string): string {
  // a plain connection first: it replays the WAL exactly as the kill left it
  const db = new Database(join(dir, EVENTS_DATABASE_FILE))
  try {
    return db.pragma('integrity_check', { simple: true }) as string
  } finally {
    db.close()
  }
}

test('a publisher and consumer killed with SIGKILL lose no published record and no acknowledgement; leases come back after restart', { timeout: 120_000 }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'roost-events-crash-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  const published = new Set<number>()
  const acked = new Set<string>()
  let next = 0
  for (let round = 0; round < 3; round++) {
    const result = await runUntilKilled(dir, next, 60 + Math.floor(Math.random() * 60))
    assert.ok(result.published.length >= 60, `round ${round}: the worker reported only ${result.published.length} publishes`)
    for (const i of result.published) published.add(i)
    for (const id of result.acked) acked.add(id)
    assert.equal(integrityCheck(dir), 'ok', `round ${round}: integrity check`)

    // Reopened an hour later: every lease of the killed worker has run out.
    const store = EventStore.open(dir, { clock: { now: () => Date.now() + 3600_000 } })
    try {
      const records = new Map<string, { state: string, attempts: number }>()
      for (let afterSeq = 0; ;) {
        const page = store.list('crash', 'orders', { afterSeq, limit: 1000 })
        if (page.length === 0) break
        for (const r of page) records.set(r.id, { state: r.state, attempts: r.attempts })
        afterSeq = page[page.length - 1]?.seq as number
      }
      for (const i of published) {
        for (let k = 0; k < 5; k++) assert.ok(records.has(`m-${i}-${k}`), `round ${round}: published m-${i}-${k} was lost`)
      }
      for (const id of acked) assert.equal(records.get(id)?.state, 'succeeded', `round ${round}: acknowledged ${id} was lost`)
      // all or nothing per batch, and nothing left leased to the dead worker
      const batches = new Map<number, number>()
      for (const id of records.keys()) {
        const i = Number(id.split('-')[1])
        batches.set(i, (batches.get(i) ?? 0) + 1)
      }
      for (const [i, count] of batches) assert.equal(count, 5, `round ${round}: batch ${i} is partly there`)
      for (const [id, record] of records) assert.notEqual(record.state, 'leased', `round ${round}: ${id} is still leased after restart`)
      const stats = store.stats('crash', 'orders')
      assert.equal(stats.leased, 0)
      assert.equal(stats.waiting, [...records.values()].filter((r) => r.state === 'ready').length, 'the counters agree with the records')
      const highest = Math.max(...batches.keys())
      // the batch in flight at the kill may or may not have made it, nothing later can
      assert.ok(highest >= Math.max(...result.published) && highest <= Math.max(...result.published) + 1)
      next = highest + 1
    } finally {
      store.close()
    }
  }
})
