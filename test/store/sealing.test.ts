// Env values at rest: sealed with the data key, readable by the platform,
// never by someone holding a copy of the database alone.
import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import type { TestContext } from 'node:test'
import Database from 'better-sqlite3'
import { DataKeyError, StartupError } from '../../src/errors/index.js'
import { BLOB_FOLDER, DATABASE_FILE, KEY_FILE, Store } from '../../src/store/index.js'

const SECRET = 'hunter2-s3cr3t-value-7f3a'

function tempDir (t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'roost-seal-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function functionSpec (env: Record<string, string>): { spec: unknown, labels: Record<string, string> } {
  return { spec: { source: './a.ts', env, http: { path: '/a' } }, labels: {} }
}

/** Every byte SQLite keeps for the database: the file, its WAL and its shared memory. */
function rawBytes (dir: string): Buffer {
  const files = [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`].map((f) => join(dir, f)).filter((f) => existsSync(f))
  return Buffer.concat(files.map((f) => readFileSync(f)))
}

function mode (path: string): number {
  return statSync(path).mode & 0o777
}

describe('sealed env values', () => {
  test('env values of a resource and of a version are not in the database files, and read back plain', (t) => {
    const dir = tempDir(t)
    const store = Store.open(dir)
    t.after(() => store.close())
    const put = store.putResource('Function', 'default', 'a', functionSpec({ DB_PASSWORD: SECRET, EMPTY: '' }))
    assert.deepEqual((put.resource.spec as { env: unknown }).env, { DB_PASSWORD: SECRET, EMPTY: '' })
    const version = store.insertVersion('default', 'a', { bundleHash: 'b'.repeat(64), configHash: 'c'.repeat(64), config: { env: { DB_PASSWORD: SECRET }, timeoutMs: 1 } })
    assert.deepEqual(version.config, { env: { DB_PASSWORD: SECRET }, timeoutMs: 1 })

    const raw = rawBytes(dir)
    assert.ok(raw.byteLength > 0)
    assert.equal(raw.includes(SECRET), false, 'an env value is in roost.db or its WAL in plain text')
    assert.equal(raw.includes('c'.repeat(64)), false, 'the config hash (a hash of the env values) is stored in plain text')

    assert.deepEqual((store.getResource('Function', 'default', 'a')?.spec as { env: unknown }).env, { DB_PASSWORD: SECRET, EMPTY: '' })
    const [read] = store.listVersions('default', 'a')
    assert.equal(read.configHash, 'c'.repeat(64))
    assert.deepEqual(read.config, { env: { DB_PASSWORD: SECRET }, timeoutMs: 1 })
    // what a copy of the file shows instead: names, and sealed values with their scheme's prefix
    const db = new Database(join(dir, DATABASE_FILE), { readonly: true })
    t.after(() => db.close())
    const spec = JSON.parse(db.prepare('SELECT spec FROM resources').pluck().get() as string) as { env: Record<string, { $sealed: string }> }
    assert.match(spec.env.DB_PASSWORD.$sealed, /^v1\.[A-Za-z0-9_-]+$/)
    assert.notEqual(spec.env.DB_PASSWORD.$sealed, spec.env.EMPTY.$sealed)
  })

  test('the same spec written again is unchanged, though every sealing differs', (t) => {
    const store = Store.open(tempDir(t))
    t.after(() => store.close())
    const first = store.putResource('Function', 'default', 'a', functionSpec({ K: SECRET }))
    const again = store.putResource('Function', 'default', 'a', functionSpec({ K: SECRET }))
    assert.equal(again.changed, false)
    assert.equal(again.resource.resourceVersion, first.resource.resourceVersion)
    assert.equal(store.putResource('Function', 'default', 'a', functionSpec({ K: 'other' })).changed, true)
  })

  test('watchers and the DELETED event see plain values', (t) => {
    const store = Store.open(tempDir(t))
    t.after(() => store.close())
    const seen: unknown[] = []
    store.watch((event) => seen.push((event.object as { spec?: { env?: unknown }, config?: { env?: unknown } }).spec?.env ?? (event.object as { config: { env: unknown } }).config.env))
    store.putResource('Function', 'default', 'a', functionSpec({ K: SECRET }))
    store.insertVersion('default', 'a', { bundleHash: 'b', configHash: 'c', config: { env: { K: SECRET } } })
    store.deleteResource('Function', 'default', 'a')
    store.deleteVersions('default', 'a')
    assert.deepEqual(seen, [{ K: SECRET }, { K: SECRET }, { K: SECRET }, { K: SECRET }])
  })

  test('a store opened with another key fails at start with a hint, and keeps its data for the right key', (t) => {
    const dir = tempDir(t)
    const store = Store.open(dir)
    store.putResource('Function', 'default', 'a', functionSpec({ K: SECRET }))
    store.close()
    const keyFile = join(dir, KEY_FILE)
    const rightKey = readFileSync(keyFile)
    writeFileSync(keyFile, randomBytes(32))
    assert.throws(() => Store.open(dir), (error: unknown) => {
      assert.ok(error instanceof StartupError, String(error))
      assert.equal(error.code, 'ROOST_E_STARTUP')
      assert.match(error.message, /is not the key this database was sealed with/)
      assert.ok(error.hint !== undefined && /key file/.test(error.hint), error.hint)
      return true
    })
    writeFileSync(keyFile, rightKey)
    const reopened = Store.open(dir)
    t.after(() => reopened.close())
    assert.deepEqual((reopened.getResource('Function', 'default', 'a')?.spec as { env: unknown }).env, { K: SECRET })
  })

  test('a store whose key file is gone fails at start instead of making a new key', (t) => {
    const dir = tempDir(t)
    Store.open(dir).close()
    rmSync(join(dir, KEY_FILE))
    assert.throws(() => Store.open(dir), (error: unknown) => error instanceof StartupError && /there is none at/.test(error.message) && /fingerprint [0-9a-f]{16}/.test(error.hint ?? ''))
    assert.equal(existsSync(join(dir, KEY_FILE)), false, 'no new key was made in its place')
  })

  test('a key file of the wrong size is refused', (t) => {
    const dir = tempDir(t)
    Store.open(dir).close()
    writeFileSync(join(dir, KEY_FILE), 'short')
    assert.throws(() => Store.open(dir), (error: unknown) => error instanceof StartupError && /holds 5 bytes, not 32/.test(error.message))
  })

  test('the key file can live apart from the data folder (StoreOptions.keyFile)', (t) => {
    const dir = tempDir(t)
    const keyFile = join(tempDir(t), 'keys', 'data.key')
    const store = Store.open(dir, { keyFile })
    t.after(() => store.close())
    assert.equal(existsSync(join(dir, KEY_FILE)), false)
    assert.equal(statSync(keyFile).size, 32)
    assert.equal(mode(keyFile), 0o600)
    assert.equal(mode(join(keyFile, '..')), 0o700)
  })

  test('a sealed value moved to another row does not open there: an error, never a wrong value', (t) => {
    const dir = tempDir(t)
    const store = Store.open(dir)
    t.after(() => store.close())
    store.putResource('Function', 'default', 'a', functionSpec({ K: 'value-of-a' }))
    store.putResource('Function', 'team-b', 'b', functionSpec({ K: 'value-of-b' }))
    const db = new Database(join(dir, DATABASE_FILE))
    t.after(() => db.close())
    const specOfA = db.prepare("SELECT spec FROM resources WHERE name = 'a'").pluck().get() as string
    db.prepare("UPDATE resources SET spec = ? WHERE name = 'b'").run(specOfA)
    assert.throws(() => store.getResource('Function', 'team-b', 'b'), (error: unknown) => error instanceof DataKeyError && error.code === 'ROOST_E_DATA_KEY' && /team-b\/b/.test(error.message))
    assert.deepEqual((store.getResource('Function', 'default', 'a')?.spec as { env: unknown }).env, { K: 'value-of-a' })
  })

  test('a database from before sealing reads as before and is sealed at its first open', (t) => {
    const dir = tempDir(t)
    Store.open(dir).close()
    // What an older Roost left: plain env values and config hashes, no key, no check value.
    rmSync(join(dir, 'keys'), { recursive: true })
    const db = new Database(join(dir, DATABASE_FILE))
    db.prepare("DELETE FROM settings WHERE key LIKE 'dataKey%'").run()
    db.prepare(`INSERT INTO resources (kind, namespace, name, uid, resource_version, generation, labels, spec, status, created_at, updated_at)
      VALUES ('Function', 'default', 'old', 'u-1', 1, 1, '{}', ?, NULL, 'then', 'then')`).run(JSON.stringify({ env: { K: SECRET }, source: './a.ts' }))
    db.prepare(`INSERT INTO versions (namespace, function, number, bundle_hash, config_hash, config, created_at)
      VALUES ('default', 'old', 1, 'b', ?, ?, 'then')`).run('d'.repeat(64), JSON.stringify({ env: { K: SECRET } }))
    db.prepare("UPDATE sequence SET value = 1 WHERE name = 'resourceVersion'").run()
    db.close()
    assert.ok(rawBytes(dir).includes(SECRET), 'the test wrote the plain value where an old Roost would')

    const store = Store.open(dir)
    t.after(() => store.close())
    const old = store.getResource('Function', 'default', 'old')
    assert.deepEqual((old?.spec as { env: unknown }).env, { K: SECRET })
    assert.equal(old?.resourceVersion, 1, 'sealing is no write of the resource')
    assert.equal(store.getVersion('default', 'old', 1)?.configHash, 'd'.repeat(64))
    assert.deepEqual(store.getVersion('default', 'old', 1)?.config, { env: { K: SECRET } })
    assert.equal(rawBytes(dir).includes(SECRET), false, 'the plain value is still in the database files after the first open')
    assert.equal(rawBytes(dir).includes('d'.repeat(64)), false)
  })
})

describe('file modes', () => {
  test('the data folder is 0700; the database, its -wal and -shm, the key and the blobs are 0600, whatever the umask', (t) => {
    const dir = join(tempDir(t), 'data')
    const previous = process.umask(0o000)
    let store: Store
    try {
      store = Store.open(dir)
      store.putResource('Function', 'default', 'a', functionSpec({ K: 'v' }))
      store.blobs.put('export default () => new Response("x")')
    } finally {
      process.umask(previous)
    }
    t.after(() => store.close())
    assert.equal(mode(dir), 0o700)
    for (const file of [DATABASE_FILE, `${DATABASE_FILE}-wal`, `${DATABASE_FILE}-shm`]) {
      assert.ok(existsSync(join(dir, file)), `${file} exists while the store is open`)
      assert.equal(mode(join(dir, file)), 0o600, `${file} is 0${mode(join(dir, file)).toString(8)}`)
    }
    assert.equal(mode(join(dir, KEY_FILE)), 0o600)
    assert.equal(mode(join(dir, 'keys')), 0o700)
    const hash = store.blobs.put('another bundle')
    assert.equal(mode(join(dir, BLOB_FOLDER)), 0o700)
    assert.equal(mode(join(dir, BLOB_FOLDER, hash.slice(0, 2))), 0o700)
    assert.equal(mode(store.blobs.path(hash)), 0o600)
  })

  test('a store an older Roost made with open modes is narrowed at open', (t) => {
    const dir = tempDir(t)
    const first = Store.open(dir)
    first.putResource('Function', 'default', 'a', functionSpec({}))
    const hash = first.blobs.put('bundle')
    first.close()
    chmodSync(dir, 0o755)
    chmodSync(join(dir, DATABASE_FILE), 0o644)
    chmodSync(join(dir, BLOB_FOLDER), 0o755)
    chmodSync(join(dir, BLOB_FOLDER, hash.slice(0, 2)), 0o755)
    chmodSync(join(dir, BLOB_FOLDER, hash.slice(0, 2), hash), 0o644)
    chmodSync(join(dir, KEY_FILE), 0o644)

    const store = Store.open(dir)
    t.after(() => store.close())
    assert.equal(mode(dir), 0o700)
    assert.equal(mode(join(dir, DATABASE_FILE)), 0o600)
    assert.equal(mode(join(dir, `${DATABASE_FILE}-wal`)), 0o600)
    assert.equal(mode(join(dir, BLOB_FOLDER)), 0o700)
    assert.equal(mode(join(dir, BLOB_FOLDER, hash.slice(0, 2))), 0o700)
    assert.equal(mode(store.blobs.path(hash)), 0o600)
    assert.equal(mode(join(dir, KEY_FILE)), 0o600)
    assert.equal(store.blobs.read(hash).toString(), 'bundle')
  })
})

describe('route reservations', () => {
  test('are stored, moved, listed in prefix order and released', (t) => {
    const dir = tempDir(t)
    const store = Store.open(dir)
    assert.equal(store.reserveRoute('/team-b', 'team-b').changed, true)
    assert.equal(store.reserveRoute('/team-a', 'team-a').changed, true)
    assert.equal(store.reserveRoute('/team-a', 'team-a').changed, false)
    assert.equal(store.reserveRoute('/team-b', 'team-c').reservation.namespace, 'team-c')
    store.close()
    const reopened = Store.open(dir)
    t.after(() => reopened.close())
    assert.deepEqual(reopened.listRouteReservations().map((r) => [r.prefix, r.namespace]), [['/team-a', 'team-a'], ['/team-b', 'team-c']])
    assert.equal(reopened.releaseRoute('/team-a'), true)
    assert.equal(reopened.releaseRoute('/team-a'), false)
    assert.deepEqual(reopened.listRouteReservations().map((r) => r.prefix), ['/team-b'])
  })
})
