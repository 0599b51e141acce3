import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import type { TestContext } from 'node:test'
import Database from 'better-sqlite3'
import { ConflictError, NotFoundError, StartupError } from '../../src/errors/index.js'
import { EVENT_SQL } from '../../src/store/event-log.js'
import { LOG_SQL } from '../../src/store/log-store.js'
import { MIGRATIONS } from '../../src/store/migrations.js'
import { RESOURCE_SQL } from '../../src/store/resource-table.js'
import { RESERVATION_SQL } from '../../src/store/route-reservation-table.js'
import { SEQUENCE_SQL } from '../../src/store/sequence.js'
import { SETTING_SQL } from '../../src/store/store.js'
import { TOKEN_SQL } from '../../src/store/token-table.js'
import { VERSION_SQL } from '../../src/store/version-table.js'
import { DATABASE_FILE, MAX_MESSAGE_BYTES, Store, TOKEN_PREFIX } from '../../src/store/index.js'
import type { LogLine, StoredResource, StoredVersion, WatchEvent } from '../../src/store/index.js'

// ---- helpers

function tempDir (t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'roost-store-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function openStore (t: TestContext, dir = tempDir(t)): Store {
  const store = Store.open(dir)
  t.after(() => store.close())
  return store
}

function recordWatch (store: Store): WatchEvent[] {
  const seen: WatchEvent[] = []
  store.watch((event) => seen.push(event))
  return seen
}

const fn = (spec: Record<string, unknown>, labels: Record<string, string> = {}): { spec: Record<string, unknown>, labels: Record<string, string> } =>
  ({ spec, labels })

function logLine (overrides: Partial<LogLine> = {}): LogLine {
  return {
    time: 1_700_000_000_000,
    namespace: 'default',
    function: 'hello',
    version: 1,
    instance: 'i-1',
    requestId: null,
    level: 'info',
    stream: 'console',
    message: 'hello',
    ...overrides
  }
}

function isConflict (error: unknown): boolean {
  return error instanceof ConflictError && error.code === 'ROOST_E_CONFLICT'
}

// ---- resources

describe('resources', () => {
  test('a put of a new resource creates it with generation 1, a fresh uid and the next resourceVersion', (t) => {
    const store = openStore(t)
    const { resource, created, changed } = store.putResource('Function', 'default', 'hello', fn({ source: './hello.ts' }, { app: 'hello' }))
    assert.equal(created, true)
    assert.equal(changed, true)
    assert.equal(resource.kind, 'Function')
    assert.equal(resource.namespace, 'default')
    assert.equal(resource.name, 'hello')
    assert.match(resource.uid, /^[0-9a-f-]{36}$/)
    assert.equal(resource.resourceVersion, 1)
    assert.equal(resource.generation, 1)
    assert.deepEqual(resource.spec, { source: './hello.ts' })
    assert.deepEqual(resource.labels, { app: 'hello' })
    assert.equal(resource.status, undefined)
    assert.equal(resource.createdAt, resource.updatedAt)
    assert.deepEqual(store.getResource('Function', 'default', 'hello'), resource)
  })

  test('a put of deep-equal spec and labels in another key order writes nothing', (t) => {
    const store = openStore(t)
    const first = store.putResource('Function', 'default', 'hello', fn({ a: 1, b: { y: [1, { q: 1, p: 2 }], x: 2 } }, { z: '1', a: '2' }))
    const seen = recordWatch(store)
    const again = store.putResource('Function', 'default', 'hello', fn({ b: { x: 2, y: [1, { p: 2, q: 1 }] }, a: 1 }, { a: '2', z: '1' }))
    assert.equal(again.created, false)
    assert.equal(again.changed, false)
    assert.deepEqual(again.resource, first.resource)
    assert.equal(store.currentResourceVersion(), 1)
    assert.deepEqual(seen, [])
  })

  test('a changed spec bumps generation and resourceVersion and keeps uid and createdAt', (t) => {
    const store = openStore(t)
    const first = store.putResource('Function', 'default', 'hello', fn({ memory: '128Mi' })).resource
    const second = store.putResource('Function', 'default', 'hello', fn({ memory: '256Mi' }))
    assert.equal(second.created, false)
    assert.equal(second.changed, true)
    assert.equal(second.resource.generation, 2)
    assert.equal(second.resource.resourceVersion, 2)
    assert.equal(second.resource.uid, first.uid)
    assert.equal(second.resource.createdAt, first.createdAt)
    assert.deepEqual(second.resource.spec, { memory: '256Mi' })
  })

  test('a label change alone bumps generation', (t) => {
    const store = openStore(t)
    store.putResource('Function', 'default', 'hello', fn({ a: 1 }, { app: 'a' }))
    const { resource, changed } = store.putResource('Function', 'default', 'hello', fn({ a: 1 }, { app: 'b' }))
    assert.equal(changed, true)
    assert.equal(resource.generation, 2)
    assert.deepEqual(resource.labels, { app: 'b' })
  })

  test('a status write bumps resourceVersion but not generation, and the same status again writes nothing', (t) => {
    const store = openStore(t)
    store.putResource('Function', 'default', 'hello', fn({ a: 1 }))
    const seen = recordWatch(store)
    const withStatus = store.putStatus('Function', 'default', 'hello', { ready: 1, conditions: [{ type: 'Ready' }] })
    assert.equal(withStatus.resourceVersion, 2)
    assert.equal(withStatus.generation, 1)
    assert.deepEqual(withStatus.status, { ready: 1, conditions: [{ type: 'Ready' }] })
    assert.deepEqual(withStatus.spec, { a: 1 })
    const same = store.putStatus('Function', 'default', 'hello', { conditions: [{ type: 'Ready' }], ready: 1 })
    assert.equal(same.resourceVersion, 2)
    assert.deepEqual(seen.map((e) => [e.type, e.resourceVersion]), [['MODIFIED', 2]])
    // a spec change later keeps the status
    const changed = store.putResource('Function', 'default', 'hello', fn({ a: 2 })).resource
    assert.deepEqual(changed.status, { ready: 1, conditions: [{ type: 'Ready' }] })
    assert.equal(changed.generation, 2)
  })

  test('a status write to a missing resource is refused as not found', (t) => {
    const store = openStore(t)
    assert.throws(() => store.putStatus('Function', 'default', 'ghost', { ready: 0 }), NotFoundError)
    assert.equal(store.currentResourceVersion(), 0)
  })

  test('resourceVersion is one monotonic sequence across kinds, namespaces, statuses, versions and deletions', (t) => {
    const store = openStore(t)
    const seen = recordWatch(store)
    store.putResource('Function', 'a', 'one', fn({}))
    store.putResource('RateLimitStrategy', 'b', 'one', fn({ limit: 1 }))
    store.putStatus('Function', 'a', 'one', { ok: true })
    store.insertVersion('a', 'one', { bundleHash: 'h1', configHash: 'c1', config: {} })
    store.putResource('Function', 'a', 'one', fn({ changed: true }))
    store.deleteResource('RateLimitStrategy', 'b', 'one')
    store.deleteVersions('a', 'one')
    assert.deepEqual(seen.map((e) => e.resourceVersion), [1, 2, 3, 4, 5, 6, 7])
    assert.deepEqual(seen.map((e) => `${e.type} ${e.kind}`), [
      'ADDED Function', 'ADDED RateLimitStrategy', 'MODIFIED Function', 'ADDED Version',
      'MODIFIED Function', 'DELETED RateLimitStrategy', 'DELETED Version'
    ])
    assert.equal(store.currentResourceVersion(), 7)
  })

  test('listResources sorts by namespace then name and filters by kind and namespace', (t) => {
    const store = openStore(t)
    for (const [ns, name] of [['b', 'x'], ['a', 'z'], ['a', 'b'], ['b', 'a']]) {
      store.putResource('Function', ns as string, name as string, fn({}))
    }
    store.putResource('Other', 'a', 'a', fn({}))
    const names = (list: StoredResource[]): string[] => list.map((r) => `${r.namespace}/${r.name}`)
    assert.deepEqual(names(store.listResources('Function')), ['a/b', 'a/z', 'b/a', 'b/x'])
    assert.deepEqual(names(store.listResources('Function', 'b')), ['b/a', 'b/x'])
    assert.deepEqual(names(store.listResources('Other')), ['a/a'])
    assert.deepEqual(store.listResources('Function', 'nowhere'), [])
  })

  test('a delete removes the resource, says whether it existed, and a re-created one gets a new uid', (t) => {
    const store = openStore(t)
    const first = store.putResource('Function', 'default', 'hello', fn({ a: 1 })).resource
    assert.equal(store.deleteResource('Function', 'default', 'hello'), true)
    assert.equal(store.getResource('Function', 'default', 'hello'), undefined)
    assert.equal(store.deleteResource('Function', 'default', 'hello'), false)
    const again = store.putResource('Function', 'default', 'hello', fn({ a: 1 }))
    assert.equal(again.created, true)
    assert.equal(again.resource.generation, 1)
    assert.notEqual(again.resource.uid, first.uid)
  })

  test('a spec holding undefined values and Dates is stored as its JSON', (t) => {
    const store = openStore(t)
    const spec = { gone: undefined, when: new Date('2024-01-02T03:04:05.000Z'), list: [1, 'two'] }
    const { resource } = store.putResource('Function', 'default', 'hello', fn(spec))
    assert.deepEqual(resource.spec, { list: [1, 'two'], when: '2024-01-02T03:04:05.000Z' })
    assert.equal(store.putResource('Function', 'default', 'hello', fn({ list: [1, 'two'], when: '2024-01-02T03:04:05.000Z' })).changed, false)
  })
})

// ---- optimistic concurrency

describe('optimistic concurrency', () => {
  test('a put with a stale resourceVersion is refused with a conflict', (t) => {
    const store = openStore(t)
    const read = store.putResource('Function', 'default', 'hello', fn({ a: 1 })).resource
    store.putResource('Function', 'default', 'hello', fn({ a: 2 })) // someone else wins the race
    assert.throws(
      () => store.putResource('Function', 'default', 'hello', fn({ a: 3 }), { expectedResourceVersion: read.resourceVersion }),
      isConflict
    )
    assert.deepEqual(store.getResource('Function', 'default', 'hello')?.spec, { a: 2 })
  })

  test('a stale resourceVersion is a conflict even when the body is unchanged', (t) => {
    const store = openStore(t)
    store.putResource('Function', 'default', 'hello', fn({ a: 1 }))
    store.putStatus('Function', 'default', 'hello', { ready: 1 })
    assert.throws(() => store.putResource('Function', 'default', 'hello', fn({ a: 1 }), { expectedResourceVersion: 1 }), isConflict)
  })

  test('a put with the current resourceVersion succeeds', (t) => {
    const store = openStore(t)
    const read = store.putResource('Function', 'default', 'hello', fn({ a: 1 })).resource
    const { resource } = store.putResource('Function', 'default', 'hello', fn({ a: 2 }), { expectedResourceVersion: read.resourceVersion })
    assert.deepEqual(resource.spec, { a: 2 })
  })

  test('expectedResourceVersion 0 creates only a resource that does not exist yet', (t) => {
    const store = openStore(t)
    const { created } = store.putResource('Function', 'default', 'hello', fn({ a: 1 }), { expectedResourceVersion: 0 })
    assert.equal(created, true)
    assert.throws(() => store.putResource('Function', 'default', 'hello', fn({ a: 2 }), { expectedResourceVersion: 0 }), isConflict)
  })

  test('an expected resourceVersion for a resource that does not exist is a conflict', (t) => {
    const store = openStore(t)
    assert.throws(() => store.putResource('Function', 'default', 'ghost', fn({}), { expectedResourceVersion: 3 }), isConflict)
    assert.equal(store.getResource('Function', 'default', 'ghost'), undefined)
  })

  test('status writes and deletes honour expectedResourceVersion too', (t) => {
    const store = openStore(t)
    store.putResource('Function', 'default', 'hello', fn({ a: 1 }))
    store.putResource('Function', 'default', 'hello', fn({ a: 2 }))
    assert.throws(() => store.putStatus('Function', 'default', 'hello', { x: 1 }, { expectedResourceVersion: 1 }), isConflict)
    assert.throws(() => store.deleteResource('Function', 'default', 'hello', { expectedResourceVersion: 1 }), isConflict)
    assert.equal(store.deleteResource('Function', 'default', 'hello', { expectedResourceVersion: 2 }), true)
  })
})

// ---- watch and transactions

describe('watch and transactions', () => {
  test('watchers see ADDED, MODIFIED and DELETED with the resourceVersion of each write', (t) => {
    const store = openStore(t)
    const seen = recordWatch(store)
    store.putResource('Function', 'default', 'hello', fn({ a: 1 }))
    store.putResource('Function', 'default', 'hello', fn({ a: 2 }))
    store.deleteResource('Function', 'default', 'hello')
    assert.deepEqual(seen.map((e) => [e.type, e.kind, e.namespace, e.name, e.resourceVersion]), [
      ['ADDED', 'Function', 'default', 'hello', 1],
      ['MODIFIED', 'Function', 'default', 'hello', 2],
      ['DELETED', 'Function', 'default', 'hello', 3]
    ])
    assert.deepEqual((seen[1]?.object as StoredResource).spec, { a: 2 })
    const deleted = seen[2]?.object as StoredResource
    assert.deepEqual(deleted.spec, { a: 2 })
    assert.equal(deleted.resourceVersion, 3)
  })

  test('watch events are delivered only after the outermost commit', (t) => {
    const store = openStore(t)
    const seen = recordWatch(store)
    store.transaction(() => {
      store.putResource('Function', 'default', 'a', fn({}))
      store.transaction(() => store.putResource('Function', 'default', 'b', fn({})))
      assert.equal(seen.length, 0, 'nothing before commit, not even after the nested call returned')
    })
    assert.deepEqual(seen.map((e) => e.name), ['a', 'b'])
  })

  test('a rolled-back transaction writes nothing and emits nothing', (t) => {
    const store = openStore(t)
    const seen = recordWatch(store)
    assert.throws(() => store.transaction(() => {
      store.putResource('Function', 'default', 'a', fn({}))
      store.insertVersion('default', 'a', { bundleHash: 'h', configHash: 'c', config: {} })
      throw new Error('boom')
    }), /boom/)
    assert.deepEqual(seen, [])
    assert.equal(store.getResource('Function', 'default', 'a'), undefined)
    assert.deepEqual(store.listVersions('default', 'a'), [])
    assert.equal(store.currentResourceVersion(), 0)
    // the sequence rolled back with it: the next write takes resourceVersion 1
    assert.equal(store.putResource('Function', 'default', 'b', fn({})).resource.resourceVersion, 1)
  })

  test('a failed nested transaction undoes only its own writes and events', (t) => {
    const store = openStore(t)
    const seen = recordWatch(store)
    store.transaction(() => {
      store.putResource('Function', 'default', 'kept', fn({}))
      assert.throws(() => store.transaction(() => {
        store.putResource('Function', 'default', 'dropped', fn({}))
        throw new Error('inner')
      }), /inner/)
      store.putResource('Function', 'default', 'also-kept', fn({}))
    })
    assert.deepEqual(seen.map((e) => [e.name, e.resourceVersion]), [['kept', 1], ['also-kept', 2]])
    assert.equal(store.getResource('Function', 'default', 'dropped'), undefined)
  })

  test('a conflict inside a transaction rolls back the writes before it', (t) => {
    const store = openStore(t)
    store.putResource('Function', 'default', 'hello', fn({ a: 1 }))
    assert.throws(() => store.transaction(() => {
      store.deleteVersions('default', 'hello')
      store.putResource('Function', 'default', 'other', fn({}))
      store.putResource('Function', 'default', 'hello', fn({ a: 2 }), { expectedResourceVersion: 0 })
    }), isConflict)
    assert.equal(store.getResource('Function', 'default', 'other'), undefined)
  })

  test('callers combine deleteResource and deleteVersions in one transaction', (t) => {
    const store = openStore(t)
    store.putResource('Function', 'default', 'hello', fn({}))
    store.insertVersion('default', 'hello', { bundleHash: 'h1', configHash: 'c', config: {} })
    store.insertVersion('default', 'hello', { bundleHash: 'h2', configHash: 'c', config: {} })
    const seen = recordWatch(store)
    const removed = store.transaction(() => {
      store.deleteResource('Function', 'default', 'hello')
      return store.deleteVersions('default', 'hello')
    })
    assert.equal(removed, 2)
    assert.deepEqual(seen.map((e) => `${e.type} ${e.kind} ${e.resourceVersion}`), ['DELETED Function 4', 'DELETED Version 5', 'DELETED Version 6'])
    assert.deepEqual(seen.slice(1).map((e) => (e.object as StoredVersion).number), [1, 2])
  })

  test('transaction returns the value of its function', (t) => {
    const store = openStore(t)
    assert.equal(store.transaction(() => 42), 42)
  })

  test('an async function is refused and its writes are rolled back', async (t) => {
    const store = openStore(t)
    assert.throws(() => store.transaction(async () => {
      store.putResource('Function', 'default', 'hello', fn({}))
    }), TypeError)
    assert.equal(store.getResource('Function', 'default', 'hello'), undefined)
  })

  test('a throwing listener breaks neither the write nor the other listeners', (t) => {
    const errors: unknown[] = []
    const store = Store.open(tempDir(t), { onListenerError: (error) => errors.push(error) })
    t.after(() => store.close())
    store.watch(() => { throw new Error('bad listener') })
    const seen = recordWatch(store)
    const { resource } = store.putResource('Function', 'default', 'hello', fn({}))
    assert.equal(resource.resourceVersion, 1)
    assert.equal(seen.length, 1)
    assert.equal(errors.length, 1)
    assert.match(String(errors[0]), /bad listener/)
    store.putResource('Function', 'default', 'hello', fn({ a: 1 }))
    assert.equal(seen.length, 2)
  })

  test('the default listener error handler warns instead of throwing', (t) => {
    const store = openStore(t)
    const warnings: string[] = []
    const onWarning = (warning: Error): void => { warnings.push(warning.message) }
    process.on('warning', onWarning)
    t.after(() => process.off('warning', onWarning))
    store.watch(() => { throw new Error('expected listener failure (this warning is part of a test)') })
    store.putResource('Function', 'default', 'hello', fn({}))
    return new Promise<void>((resolve) => setImmediate(() => {
      assert.ok(warnings.some((w) => w.includes('expected listener failure')))
      resolve()
    }))
  })

  test('an unsubscribed listener hears nothing more', (t) => {
    const store = openStore(t)
    const seen: WatchEvent[] = []
    const stop = store.watch((e) => seen.push(e))
    store.putResource('Function', 'default', 'a', fn({}))
    stop()
    store.putResource('Function', 'default', 'b', fn({}))
    assert.deepEqual(seen.map((e) => e.name), ['a'])
  })

  test('a listener that writes keeps every listener in resourceVersion order', (t) => {
    const store = openStore(t)
    store.watch((e) => {
      // a controller reacting to a Function by writing its status
      if (e.kind === 'Function' && e.type === 'ADDED') store.putStatus('Function', e.namespace, e.name, { seen: true })
    })
    const first = recordWatch(store)
    const second = recordWatch(store)
    store.putResource('Function', 'default', 'hello', fn({}))
    assert.deepEqual(first.map((e) => `${e.type} ${e.resourceVersion}`), ['ADDED 1', 'MODIFIED 2'])
    assert.deepEqual(second.map((e) => `${e.type} ${e.resourceVersion}`), ['ADDED 1', 'MODIFIED 2'])
  })

  test('watch event objects are frozen and separate from what the write returned', (t) => {
    const store = openStore(t)
    const seen = recordWatch(store)
    const { resource } = store.putResource('Function', 'default', 'hello', fn({ nested: { a: 1 } }))
    const object = seen[0]?.object as StoredResource<{ nested: { a: number } }>
    assert.ok(Object.isFrozen(object))
    assert.ok(Object.isFrozen(object.spec.nested))
    assert.throws(() => { object.spec.nested.a = 2 }, TypeError)
    ;(resource.spec as { nested: { a: number } }).nested.a = 3 // the caller's copy is its own
    assert.equal(object.spec.nested.a, 1)
  })

  test('close inside a transaction is refused; close twice is harmless', (t) => {
    const store = Store.open(tempDir(t))
    assert.throws(() => store.transaction(() => store.close()), /inside one of its transactions/)
    store.close()
    store.close()
    assert.equal(store.isOpen, false)
  })
})

// ---- versions

describe('versions', () => {
  test('versions are numbered from 1 per function, listed ascending, and the latest is the highest', (t) => {
    const store = openStore(t)
    const v1 = store.insertVersion('default', 'hello', { bundleHash: 'b1', configHash: 'c1', config: { memory: 128 } })
    const v2 = store.insertVersion('default', 'hello', { bundleHash: 'b2', configHash: 'c2', config: { memory: 256 } })
    const other = store.insertVersion('default', 'other', { bundleHash: 'b3', configHash: 'c3', config: {} })
    const elsewhere = store.insertVersion('prod', 'hello', { bundleHash: 'b4', configHash: 'c4', config: {} })
    assert.deepEqual([v1.number, v2.number, other.number, elsewhere.number], [1, 2, 1, 1])
    assert.deepEqual(v2, {
      namespace: 'default', function: 'hello', number: 2, bundleHash: 'b2', configHash: 'c2', config: { memory: 256 }, createdAt: v2.createdAt
    })
    assert.deepEqual(store.listVersions('default', 'hello').map((v) => v.number), [1, 2])
    assert.deepEqual(store.latestVersion('default', 'hello'), v2)
    assert.deepEqual(store.getVersion('default', 'hello', 1), v1)
    assert.equal(store.getVersion('default', 'hello', 3), undefined)
    assert.equal(store.latestVersion('default', 'nothing'), undefined)
  })

  test('version numbers are never reused after deleteVersions, even across a reopen', (t) => {
    const dir = tempDir(t)
    let store = Store.open(dir)
    store.insertVersion('default', 'hello', { bundleHash: 'b1', configHash: 'c', config: {} })
    store.insertVersion('default', 'hello', { bundleHash: 'b2', configHash: 'c', config: {} })
    assert.equal(store.deleteVersions('default', 'hello'), 2)
    assert.deepEqual(store.listVersions('default', 'hello'), [])
    assert.equal(store.insertVersion('default', 'hello', { bundleHash: 'b3', configHash: 'c', config: {} }).number, 3)
    store.deleteVersions('default', 'hello')
    store.close()
    store = Store.open(dir)
    t.after(() => store.close())
    assert.equal(store.insertVersion('default', 'hello', { bundleHash: 'b4', configHash: 'c', config: {} }).number, 4)
    assert.equal(store.deleteVersions('default', 'nothing'), 0)
  })

  test('version inserts appear on the watch feed as kind Version named after the function', (t) => {
    const store = openStore(t)
    const seen = recordWatch(store)
    const version = store.insertVersion('default', 'hello', { bundleHash: 'b1', configHash: 'c', config: {} })
    assert.deepEqual(seen, [{ type: 'ADDED', kind: 'Version', namespace: 'default', name: 'hello', resourceVersion: 1, object: version }])
  })
})

// ---- events

describe('events', () => {
  const event = { namespace: 'default', kind: 'Function', name: 'hello', type: 'Normal' as const, reason: 'Built' }

  test('recordEvent stamps an id and the time unless given', (t) => {
    const store = openStore(t)
    const before = new Date().toISOString()
    const recorded = store.recordEvent({ ...event, message: 'v1 built' })
    assert.equal(recorded.id, 1)
    assert.ok(recorded.time >= before)
    assert.equal(store.recordEvent({ ...event, message: 'later', time: '2020-01-01T00:00:00.000Z' }).time, '2020-01-01T00:00:00.000Z')
  })

  test('listEvents returns the newest N of one object, oldest first, 50 by default', (t) => {
    const store = openStore(t)
    for (let i = 0; i < 60; i++) {
      store.recordEvent({ ...event, message: `m${i}` })
      store.recordEvent({ ...event, name: 'other', type: 'Warning', message: `o${i}` })
    }
    const all = store.listEvents({ namespace: 'default', kind: 'Function', name: 'hello' })
    assert.equal(all.length, 50)
    assert.equal(all[0]?.message, 'm10')
    assert.equal(all[49]?.message, 'm59')
    assert.ok(all.every((e) => e.name === 'hello'))
    const three = store.listEvents({ namespace: 'default', kind: 'Function', name: 'hello', limit: 3 })
    assert.deepEqual(three.map((e) => e.message), ['m57', 'm58', 'm59'])
    assert.deepEqual(store.listEvents({ namespace: 'default', kind: 'Function', name: 'hello', limit: -1 }), [])
    assert.deepEqual(store.listEvents({ namespace: 'default', kind: 'Other', name: 'hello' }), [])
  })

  test('pruneEvents keeps the newest N events of every object', (t) => {
    const store = openStore(t)
    for (let i = 0; i < 5; i++) {
      store.recordEvent({ ...event, message: `m${i}` })
      store.recordEvent({ ...event, name: 'other', message: `o${i}` })
    }
    store.recordEvent({ ...event, name: 'single', message: 's' })
    assert.equal(store.pruneEvents(2), 6)
    assert.deepEqual(store.listEvents({ ...event }).map((e) => e.message), ['m3', 'm4'])
    assert.deepEqual(store.listEvents({ ...event, name: 'other' }).map((e) => e.message), ['o3', 'o4'])
    assert.deepEqual(store.listEvents({ ...event, name: 'single' }).map((e) => e.message), ['s'])
    assert.equal(store.pruneEvents(0), 5)
    assert.throws(() => store.pruneEvents(Number.NaN), RangeError)
  })
})

// ---- logs

describe('logs', () => {
  test('appendLogs writes a batch and returns the last id; queryLogs returns one function, oldest first', (t) => {
    const store = openStore(t)
    const last = store.appendLogs([
      logLine({ message: 'a' }),
      logLine({ message: 'elsewhere', function: 'other' }),
      logLine({ message: 'b', requestId: 'r-1', level: 'error', stream: 'stderr' })
    ])
    assert.equal(last, 3)
    const lines = store.queryLogs({ namespace: 'default', function: 'hello' })
    assert.deepEqual(lines.map((l) => [l.id, l.message]), [[1, 'a'], [3, 'b']])
    assert.deepEqual(lines[1], { ...logLine({ message: 'b', requestId: 'r-1', level: 'error', stream: 'stderr' }), id: 3 })
    assert.equal(store.appendLogs([]), 0)
    const before = Date.now()
    store.appendLogs([logLine({ function: 'clock', time: Number.NaN })])
    assert.ok((store.queryLogs({ namespace: 'default', function: 'clock' })[0]?.time ?? 0) >= before)
  })

  test('queryLogs filters by sinceMs and afterId and keeps the newest N', (t) => {
    const store = openStore(t)
    store.appendLogs(Array.from({ length: 10 }, (_, i) => logLine({ time: 1000 + i, message: `m${i}` })))
    const messages = (q: Partial<Parameters<Store['queryLogs']>[0]>): string[] =>
      store.queryLogs({ namespace: 'default', function: 'hello', ...q }).map((l) => l.message)
    assert.deepEqual(messages({ sinceMs: 1007 }), ['m7', 'm8', 'm9'])
    assert.deepEqual(messages({ afterId: 8 }), ['m8', 'm9'])
    assert.deepEqual(messages({ limit: 3 }), ['m7', 'm8', 'm9'])
    assert.deepEqual(messages({ sinceMs: 1002, afterId: 3, limit: 2 }), ['m8', 'm9'])
    assert.deepEqual(messages({ limit: 0 }), [])
    assert.equal(messages({}).length, 10)
  })

  test('queryLogs with a requestId returns only the lines of that request (an async invocation\'s, by its call id)', (t) => {
    const store = openStore(t)
    store.appendLogs([
      logLine({ message: 'first attempt', requestId: 'call-1' }),
      logLine({ message: 'someone else', requestId: 'r-2' }),
      logLine({ message: 'no request' }),
      logLine({ message: 'second attempt', requestId: 'call-1' }),
      logLine({ message: 'other function', function: 'other', requestId: 'call-1' })
    ])
    const messages = (requestId: string): string[] => store.queryLogs({ namespace: 'default', function: 'hello', requestId }).map((l) => l.message)
    assert.deepEqual(messages('call-1'), ['first attempt', 'second attempt'])
    assert.deepEqual(messages('nobody'), [])
  })

  test('queryLogs returns at most 1000 lines by default', (t) => {
    const store = openStore(t)
    store.appendLogs(Array.from({ length: 1005 }, (_, i) => logLine({ message: `m${i}` })))
    const lines = store.queryLogs({ namespace: 'default', function: 'hello' })
    assert.equal(lines.length, 1000)
    assert.equal(lines[0]?.message, 'm5')
  })

  test('a message over 16 KiB is cut, with a marker, to at most 16 KiB of valid UTF-8', (t) => {
    const store = openStore(t)
    const ascii = 'x'.repeat(20_000)
    const emoji = '😀'.repeat(6000) // 4 bytes each: a cut in the middle would be easy to get wrong
    const short = 'é'.repeat(100)
    store.appendLogs([logLine({ message: ascii }), logLine({ message: emoji }), logLine({ message: short })])
    const [a, e, s] = store.queryLogs({ namespace: 'default', function: 'hello' }).map((l) => l.message)
    for (const message of [a, e] as string[]) {
      assert.ok(Buffer.byteLength(message) <= MAX_MESSAGE_BYTES)
      assert.ok(Buffer.byteLength(message) > MAX_MESSAGE_BYTES - 64)
      assert.match(message, /…\[truncated \d+ bytes\]$/)
      assert.ok(!message.includes('\uFFFD'))
    }
    assert.ok(a?.startsWith('x'.repeat(16_000)))
    assert.match(e as string, /^(😀)+ …/u)
    const cut = Number(/truncated (\d+) bytes/.exec(a as string)?.[1])
    assert.equal(Buffer.byteLength(a as string) - Buffer.byteLength(/ …\[.*$/.exec(a as string)?.[0] as string) + cut, 20_000)
    assert.equal(s, short)
    const exact = 'y'.repeat(MAX_MESSAGE_BYTES)
    store.appendLogs([logLine({ function: 'exact', message: exact })])
    assert.equal(store.queryLogs({ namespace: 'default', function: 'exact' })[0]?.message, exact)
  })

  test('pruneLogs keeps the newest N lines of every function', (t) => {
    const store = openStore(t)
    store.appendLogs(Array.from({ length: 10 }, (_, i) => logLine({ message: `h${i}` })))
    store.appendLogs(Array.from({ length: 3 }, (_, i) => logLine({ function: 'small', message: `s${i}` })))
    store.appendLogs(Array.from({ length: 6 }, (_, i) => logLine({ namespace: 'prod', message: `p${i}` })))
    assert.equal(store.pruneLogs(4), 6 + 2)
    const messages = (namespace: string, fn: string): string[] => store.queryLogs({ namespace, function: fn }).map((l) => l.message)
    assert.deepEqual(messages('default', 'hello'), ['h6', 'h7', 'h8', 'h9'])
    assert.deepEqual(messages('default', 'small'), ['s0', 's1', 's2'])
    assert.deepEqual(messages('prod', 'hello'), ['p2', 'p3', 'p4', 'p5'])
    assert.equal(store.pruneLogs(4), 0)
    assert.equal(store.pruneLogs(Number.POSITIVE_INFINITY), 0)
    assert.throws(() => store.pruneLogs(-1), RangeError)
    assert.throws(() => store.pruneLogs(Number.NaN), RangeError)
    assert.equal(store.pruneLogs(0), 11)
    assert.deepEqual(messages('default', 'hello'), [])
  })

  test('deleteLogs removes one function and ids are never reused afterwards', (t) => {
    const store = openStore(t)
    store.appendLogs([logLine({ function: 'other' }), logLine(), logLine()])
    assert.equal(store.deleteLogs('default', 'hello'), 2)
    assert.deepEqual(store.queryLogs({ namespace: 'default', function: 'hello' }), [])
    assert.equal(store.queryLogs({ namespace: 'default', function: 'other' }).length, 1)
    // a follower that had read up to id 3 must still see the next line
    assert.equal(store.appendLogs([logLine({ message: 'next' })]), 4)
    assert.deepEqual(store.queryLogs({ namespace: 'default', function: 'hello', afterId: 3 }).map((l) => l.message), ['next'])
  })
})

// ---- tokens and settings

describe('tokens', () => {
  test('createToken returns a roost_ token once and lookupToken finds its scope', (t) => {
    const store = openStore(t)
    const admin = store.createToken({ namespace: '*', description: 'admin' })
    const dev = store.createToken({ namespace: 'dev' })
    assert.match(admin.token, /^roost_[A-Za-z0-9_-]{43}$/)
    assert.ok(admin.token.startsWith(TOKEN_PREFIX))
    assert.notEqual(admin.id, dev.id)
    assert.deepEqual(store.lookupToken(admin.token), { id: admin.id, namespace: '*' })
    assert.deepEqual(store.lookupToken(dev.token), { id: dev.id, namespace: 'dev' })
    assert.equal(store.lookupToken(admin.token + 'x'), undefined)
    assert.equal(store.lookupToken('not-a-token'), undefined)
    assert.equal(store.lookupToken(''), undefined)
  })

  test('only the hash of a token is stored, never the token', (t) => {
    const dir = tempDir(t)
    const store = Store.open(dir)
    const { token } = store.createToken({ namespace: '*' })
    const files = [DATABASE_FILE, `${DATABASE_FILE}-wal`].map((f) => join(dir, f)).filter((f) => existsSync(f))
    const contents = files.map((f) => readFileSync(f).toString('latin1')).join('')
    const hash = createHash('sha256').update(token).digest('hex')
    assert.ok(contents.includes(hash), 'the hash is in the database files (so the search below looks in the right place)')
    assert.ok(!contents.includes(token), 'the raw token is not')
    assert.ok(!contents.includes(token.slice(TOKEN_PREFIX.length)), 'nor its secret part')
    store.close()
  })

  test('listTokens shows tokens without secrets and deleteToken revokes one', (t) => {
    const store = openStore(t)
    const a = store.createToken({ namespace: '*', description: 'ci' })
    const b = store.createToken({ namespace: 'dev' })
    const listed = store.listTokens()
    assert.deepEqual(listed.map((i) => i.id).sort(), [a.id, b.id].sort())
    assert.deepEqual(listed.find((i) => i.id === a.id), { id: a.id, namespace: '*', description: 'ci', createdAt: listed.find((i) => i.id === a.id)?.createdAt })
    assert.ok(!JSON.stringify(listed).includes(a.token))
    assert.equal(store.deleteToken(a.id), true)
    assert.equal(store.deleteToken(a.id), false)
    assert.equal(store.lookupToken(a.token), undefined)
    assert.deepEqual(store.lookupToken(b.token)?.namespace, 'dev')
  })
})

describe('settings', () => {
  test('settings are a small key-value map', (t) => {
    const store = openStore(t)
    assert.equal(store.getSetting('cluster.id'), undefined)
    store.setSetting('cluster.id', 'abc')
    store.setSetting('cluster.id', 'def')
    store.setSetting('empty', '')
    assert.equal(store.getSetting('cluster.id'), 'def')
    assert.equal(store.getSetting('empty'), '')
  })
})

// ---- lifecycle

describe('lifecycle', () => {
  test('a reopened store keeps everything and continues its sequences', (t) => {
    const dir = tempDir(t)
    const first = Store.open(dir)
    const fnResource = first.putResource('Function', 'default', 'hello', fn({ a: 1 }, { app: 'hello' })).resource
    first.putStatus('Function', 'default', 'hello', { ready: 1 })
    const version = first.insertVersion('default', 'hello', { bundleHash: 'b', configHash: 'c', config: { x: 1 } })
    const event = first.recordEvent({ namespace: 'default', kind: 'Function', name: 'hello', type: 'Normal', reason: 'R', message: 'm' })
    first.appendLogs([logLine({ message: 'kept' })])
    const { token } = first.createToken({ namespace: 'default' })
    first.setSetting('k', 'v')
    const hash = first.blobs.put('bundle')
    first.close()

    const store = Store.open(dir)
    t.after(() => store.close())
    const resource = store.getResource('Function', 'default', 'hello')
    assert.equal(resource?.uid, fnResource.uid)
    assert.deepEqual(resource?.status, { ready: 1 })
    assert.deepEqual(store.listVersions('default', 'hello'), [version])
    assert.deepEqual(store.listEvents({ namespace: 'default', kind: 'Function', name: 'hello' }), [event])
    assert.deepEqual(store.queryLogs({ namespace: 'default', function: 'hello' }).map((l) => l.message), ['kept'])
    assert.equal(store.lookupToken(token)?.namespace, 'default')
    assert.equal(store.getSetting('k'), 'v')
    assert.equal(store.blobs.read(hash).toString(), 'bundle')
    assert.equal(store.currentResourceVersion(), 3)
    assert.equal(store.putResource('Function', 'default', 'next', fn({})).resource.resourceVersion, 4)
  })

  test('a second Store on the same folder reads what the first wrote, and may write', (t) => {
    const dir = tempDir(t)
    const owner = openStore(t, dir)
    const second = openStore(t, dir)
    owner.putResource('Function', 'default', 'hello', fn({ a: 1 }))
    assert.deepEqual(second.getResource('Function', 'default', 'hello')?.spec, { a: 1 })
    const seen = recordWatch(owner)
    second.putResource('Function', 'default', 'from-second', fn({}))
    assert.equal(owner.getResource('Function', 'default', 'from-second')?.resourceVersion, 2)
    assert.deepEqual(seen, [], 'watch events stay with the Store object that wrote')
  })

  test('the database is in WAL mode with the documented pragmas and the latest schema', (t) => {
    const dir = tempDir(t)
    openStore(t, dir)
    const db = new Database(join(dir, DATABASE_FILE), { readonly: true })
    t.after(() => db.close())
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal')
    assert.equal(db.pragma('user_version', { simple: true }), MIGRATIONS.length)
    assert.equal(db.pragma('integrity_check', { simple: true }), 'ok')
  })

  test('a database from a newer Roost is refused at startup', (t) => {
    const dir = tempDir(t)
    Store.open(dir).close()
    const db = new Database(join(dir, DATABASE_FILE))
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`)
    db.close()
    assert.throws(() => Store.open(dir), (error: unknown) => error instanceof StartupError && /newer/.test(error.message))
  })

  test('a file that is not a database is refused at startup without being touched', (t) => {
    const dir = tempDir(t)
    const file = join(dir, DATABASE_FILE)
    writeFileSync(file, 'not a database, just some text that is long enough to have a header '.repeat(20))
    const before = readFileSync(file)
    assert.throws(() => Store.open(dir), StartupError)
    assert.deepEqual(readFileSync(file), before)
  })
})

// ---- indexes

describe('query plans', () => {
  // Statements that read a whole (small) table on purpose: the sealing sweep
  // at open reads every resource and version once.
  const fullReadsAllowed = new Set<string>([LOG_SQL.streams, TOKEN_SQL.list, EVENT_SQL.objects, RESOURCE_SQL.all, VERSION_SQL.all, RESERVATION_SQL.list])

  test('every read, update and delete uses an index', (t) => {
    const dir = tempDir(t)
    openStore(t, dir)
    const db = new Database(join(dir, DATABASE_FILE), { readonly: true })
    t.after(() => db.close())
    const statements = [RESOURCE_SQL, VERSION_SQL, EVENT_SQL, LOG_SQL, TOKEN_SQL, SEQUENCE_SQL, SETTING_SQL, RESERVATION_SQL]
      .flatMap((group) => Object.values(group) as string[])
      .filter((sql) => /^\s*(SELECT|UPDATE|DELETE)/i.test(sql))
    assert.ok(statements.length >= 20)
    for (const sql of statements) {
      if (fullReadsAllowed.has(sql)) continue
      // EXPLAIN needs no real values: any literal plans the same way
      const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql.replace(/\?|@\w+/g, '1')}`).all() as Array<{ detail: string }>
      const details = plan.map((row) => row.detail)
      for (const detail of details) {
        assert.doesNotMatch(detail, /^SCAN \w+$/, `full scan in: ${sql}\n${details.join('\n')}`)
        assert.doesNotMatch(detail, /TEMP B-TREE/, `sort without an index in: ${sql}\n${details.join('\n')}`)
      }
    }
  })
})
