import assert from 'node:assert/strict'
import { createHash, randomBytes } from 'node:crypto'
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { isAbsolute, join } from 'node:path'
import { test } from 'node:test'
import type { TestContext } from 'node:test'
import { NotFoundError } from '../../src/errors/index.js'
import { BlobStore } from '../../src/store/index.js'

function tempDir (t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'roost-blobs-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex')

test('put stores content under its sha256 in a two-hex-digit folder and read returns it', (t) => {
  const dir = tempDir(t)
  const blobs = new BlobStore(dir)
  const hash = blobs.put('export default () => new Response("hi")')
  assert.equal(hash, sha256('export default () => new Response("hi")'))
  assert.equal(blobs.path(hash), join(dir, hash.slice(0, 2), hash))
  assert.ok(isAbsolute(blobs.path(hash)))
  assert.equal(blobs.read(hash).toString('utf8'), 'export default () => new Response("hi")')
  assert.equal(blobs.has(hash), true)
})

test('a string and the same bytes give the same blob; binary and empty content work', (t) => {
  const blobs = new BlobStore(tempDir(t))
  assert.equal(blobs.put('é'), blobs.put(new Uint8Array(Buffer.from('é', 'utf8'))))
  const binary = randomBytes(4096)
  assert.deepEqual(blobs.read(blobs.put(binary)), binary)
  const empty = blobs.put('')
  assert.equal(empty, sha256(''))
  assert.equal(blobs.read(empty).length, 0)
  assert.equal(blobs.verify(empty), true)
})

test('an existing blob is not rewritten', (t) => {
  const blobs = new BlobStore(tempDir(t))
  const hash = blobs.put('same')
  const before = statSync(blobs.path(hash))
  const again = blobs.put(Buffer.from('same'))
  const after = statSync(blobs.path(hash))
  assert.equal(again, hash)
  assert.equal(after.ino, before.ino)
  assert.equal(after.mtimeMs, before.mtimeMs)
})

test('a put leaves no temporary file behind', (t) => {
  const dir = tempDir(t)
  const blobs = new BlobStore(dir)
  for (let i = 0; i < 20; i++) blobs.put(`blob ${i}`)
  assert.deepEqual(readdirSync(join(dir, 'tmp')), [])
})

test('verify re-hashes the file and detects a flipped byte', (t) => {
  const blobs = new BlobStore(tempDir(t))
  const hash = blobs.put(randomBytes(3 * 1024 * 1024 + 17)) // more than one read chunk
  assert.equal(blobs.verify(hash), true)
  const file = blobs.path(hash)
  const bytes = readFileSync(file)
  const at = 2 * 1024 * 1024 + 5
  bytes[at] = (bytes[at] as number) ^ 0x01
  writeFileSync(file, bytes)
  assert.equal(blobs.verify(hash), false)
})

test('a damaged blob of the wrong size is repaired by putting its content again', (t) => {
  const blobs = new BlobStore(tempDir(t))
  const hash = blobs.put('a bundle that will be cut short')
  truncateSync(blobs.path(hash), 5)
  assert.equal(blobs.verify(hash), false)
  assert.equal(blobs.put('a bundle that will be cut short'), hash)
  assert.equal(blobs.verify(hash), true)
})

test('missing blobs: has and verify say false, read is NotFoundError', (t) => {
  const blobs = new BlobStore(tempDir(t))
  const missing = sha256('never stored')
  assert.equal(blobs.has(missing), false)
  assert.equal(blobs.verify(missing), false)
  assert.throws(() => blobs.read(missing), NotFoundError)
  assert.equal(existsSync(blobs.path(missing)), false)
})

test('a name that is not a sha256 hex digest never becomes a path', (t) => {
  const blobs = new BlobStore(tempDir(t))
  for (const bad of ['../../etc/passwd', '', 'ABCDEF'.repeat(11).slice(0, 64), sha256('x') + '/..', sha256('x').slice(1)]) {
    assert.equal(blobs.has(bad), false)
    assert.equal(blobs.verify(bad), false)
    assert.throws(() => blobs.path(bad), NotFoundError)
    assert.throws(() => blobs.read(bad), NotFoundError)
  }
})

test('temporary files left by a killed writer are swept when old, kept when fresh', (t) => {
  const dir = tempDir(t)
  new BlobStore(dir) // eslint-disable-line no-new
  const stale = join(dir, 'tmp', 'stale')
  const fresh = join(dir, 'tmp', 'fresh')
  writeFileSync(stale, 'half a bundle')
  writeFileSync(fresh, 'another process is writing this')
  const twoHoursAgo = new Date(Date.now() - 2 * 60 * 60 * 1000)
  utimesSync(stale, twoHoursAgo, twoHoursAgo)
  new BlobStore(dir) // eslint-disable-line no-new
  assert.equal(existsSync(stale), false)
  assert.equal(existsSync(fresh), true)
})
