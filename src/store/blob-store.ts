import { createHash, randomBytes } from 'node:crypto'
import {
  chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, renameSync, rmSync, statSync, writeFileSync
} from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { NotFoundError } from '../errors/index.js'
import { privateDirectory } from './private-files.js'

const HASH = /^[0-9a-f]{64}$/
const READ_CHUNK = 1024 * 1024
// A temp file this old belongs to a writer that died (kill -9 between write
// and rename); a younger one may be another process's write in progress.
const STALE_TEMP_MS = 60 * 60 * 1000

// Content-addressed files, named by the sha256 hex of their content, under
// `<dir>/<first two hex digits>/<hash>`. A blob appears whole or not at all:
// it is written to `<dir>/tmp/`, fsynced, then renamed into place (rename is
// atomic within one file system). Blobs are never changed once written.
// Folders are 0700 and blobs 0600: a bundle is its owner's code.
export class BlobStore {
  readonly dir: string
  private readonly tmpDir: string

  constructor (dir: string) {
    this.dir = resolve(dir)
    this.tmpDir = join(this.dir, 'tmp')
    const wasOpen = (statSync(this.dir, { throwIfNoEntry: false })?.mode ?? 0) & 0o077
    privateDirectory(this.dir)
    privateDirectory(this.tmpDir)
    if (wasOpen !== 0) restrictTree(this.dir)
    this.sweepStaleTemp()
  }

  put (content: string | Uint8Array): string {
    const data = typeof content === 'string' ? Buffer.from(content, 'utf8') : content
    const hash = createHash('sha256').update(data).digest('hex')
    const target = this.path(hash)
    // An existing blob is not rewritten. One of the wrong size cannot come from
    // us (writes are atomic) but from outside damage: replacing it repairs it.
    if (statSync(target, { throwIfNoEntry: false })?.size === data.byteLength) return hash
    mkdirSync(dirname(target), { recursive: true, mode: 0o700 })
    const temp = join(this.tmpDir, `${hash}.${process.pid}.${randomBytes(6).toString('hex')}`)
    try {
      writeDurably(temp, data)
      renameSync(temp, target)
    } catch (error) {
      rmSync(temp, { force: true })
      throw error
    }
    // the rename itself reaches the disk only with its directory
    fsyncDirectory(dirname(target))
    return hash
  }

  has (hash: string): boolean {
    return HASH.test(hash) && statSync(this.path(hash), { throwIfNoEntry: false })?.isFile() === true
  }

  // Absolute path of the blob, whether or not it exists. Anything that is not
  // a sha256 hex digest names no blob (and must never become a path).
  path (hash: string): string {
    if (!HASH.test(hash)) throw new NotFoundError(`no blob ${JSON.stringify(hash)}: not a sha256 hex digest`)
    return join(this.dir, hash.slice(0, 2), hash)
  }

  read (hash: string): Buffer {
    try {
      return readFileSync(this.path(hash))
    } catch (error) {
      if (isNoEntry(error)) throw new NotFoundError(`no blob ${hash}`, { hint: 'the bundle may have to be built again' })
      throw error
    }
  }

  // Re-hashes the file: false when it is missing or its content no longer
  // matches its name (disk damage, someone editing files by hand).
  verify (hash: string): boolean {
    if (!HASH.test(hash)) return false
    try {
      return hashFile(this.path(hash)) === hash
    } catch (error) {
      if (isNoEntry(error)) return false
      throw error
    }
  }

  private sweepStaleTemp (): void {
    const now = Date.now()
    for (const name of readdirSync(this.tmpDir)) {
      const file = join(this.tmpDir, name)
      try {
        const stat = statSync(file, { throwIfNoEntry: false })
        if (stat !== undefined && now - stat.mtimeMs > STALE_TEMP_MS) rmSync(file, { force: true })
      } catch {
        // another process sweeping at the same time: its job now
      }
    }
  }
}

// A store made by an older Roost has 0755 folders and 0644 blobs: narrowed once.
function restrictTree (dir: string): void {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) {
      chmodSync(path, 0o700)
      restrictTree(path)
    } else if (entry.isFile()) {
      chmodSync(path, 0o600)
    }
  }
}

function writeDurably (file: string, data: Uint8Array): void {
  const fd = openSync(file, 'wx', 0o600)
  try {
    writeFileSync(fd, data)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

function fsyncDirectory (dir: string): void {
  const fd = openSync(dir, 'r')
  try {
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
}

// In chunks, so that verifying a large bundle does not hold it all in memory.
function hashFile (file: string): string {
  const hash = createHash('sha256')
  const buffer = Buffer.allocUnsafe(READ_CHUNK)
  const fd = openSync(file, 'r')
  try {
    let read = readSync(fd, buffer, 0, READ_CHUNK, null)
    while (read > 0) {
      hash.update(buffer.subarray(0, read))
      read = readSync(fd, buffer, 0, READ_CHUNK, null)
    }
  } finally {
    closeSync(fd)
  }
  return hash.digest('hex')
}

function isNoEntry (error: unknown): boolean {
  return error instanceof Error && (error as NodeJS.ErrnoException).code === 'ENOENT'
}
