import { createHash, randomBytes } from 'node:crypto'
import { chmodSync, closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs'
import { dirname } from 'node:path'
import type Database from 'better-sqlite3'
import { StartupError } from '../errors/index.js'
import { KEY_BYTES, SecretBox } from './secret-box.js'

// The key that seals values in the database. It lives in a file of its own,
// outside the database, readable by the platform's user only: a copy of the
// database without it reveals no sealed value.

export function readDataKey (file: string): Buffer | undefined {
  let key: Buffer
  try {
    key = readFileSync(file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new StartupError(`cannot read the data key ${file}: ${(error as Error).message}`, { cause: error, hint: 'the platform\'s user must be able to read it' })
  }
  if (key.byteLength !== KEY_BYTES) {
    throw new StartupError(`the data key ${file} holds ${key.byteLength} bytes, not ${KEY_BYTES}`, { hint: 'restore the key file from a backup of $ROOST_HOME; it is not meant to be edited' })
  }
  restrict(file)
  return key
}

// Written whole under a temporary name, then linked into place: link fails
// when the file exists, so two processes starting at once agree on one key.
export function createDataKey (file: string): Buffer {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 })
  chmodSync(dirname(file), 0o700)
  const temp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`
  const key = randomBytes(KEY_BYTES)
  const fd = openSync(temp, 'wx', 0o600)
  try {
    writeSync(fd, key)
    fsyncSync(fd)
  } finally {
    closeSync(fd)
  }
  try {
    linkSync(temp, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
    return readDataKey(file) as Buffer
  } finally {
    rmSync(temp, { force: true })
  }
  return key
}

// Names a key in messages without revealing it.
export function keyFingerprint (key: Buffer): string {
  return createHash('sha256').update('roost data key fingerprint\0').update(key).digest('hex').slice(0, 16)
}

function restrict (file: string): void {
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600)
}

const CHECK_SETTING = 'dataKeyCheck'
const FINGERPRINT_SETTING = 'dataKeyFingerprint'
const CHECK_TEXT = 'roost data key check'
const CHECK_CONTEXT = 'roost\0dataKeyCheck'

// The box that seals this database's values. A database remembers a value
// sealed with its key: opened with another key it fails here, at start, with
// a clear error, instead of failing on the first env value read.
export function unlockDatabase (db: Database.Database, keyFile: string): SecretBox {
  const get = db.prepare<[string], string>('SELECT value FROM settings WHERE key = ?').pluck()
  const set = db.prepare<[string, string], unknown>('INSERT INTO settings (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING')
  let key = readDataKey(keyFile)
  if (key === undefined) {
    if (get.get(CHECK_SETTING) !== undefined) {
      throw new StartupError(`this database's env values are sealed with a data key, and there is none at ${keyFile}`, {
        hint: `restore that file from the backup of $ROOST_HOME it belongs with (key fingerprint ${get.get(FINGERPRINT_SETTING) ?? 'unknown'})`
      })
    }
    try {
      key = createDataKey(keyFile)
    } catch (error) {
      throw new StartupError(`cannot create the data key ${keyFile}: ${(error as Error).message}`, { cause: error, hint: 'the platform\'s user must be able to write that folder' })
    }
  }
  const box = new SecretBox(key)
  db.transaction(() => {
    const check = get.get(CHECK_SETTING)
    if (check === undefined) {
      set.run(CHECK_SETTING, box.seal(CHECK_TEXT, CHECK_CONTEXT))
      set.run(FINGERPRINT_SETTING, keyFingerprint(key))
    } else if (box.open(check, CHECK_CONTEXT) !== CHECK_TEXT) {
      throw new StartupError(`the data key ${keyFile} (fingerprint ${keyFingerprint(key)}) is not the key this database was sealed with (fingerprint ${get.get(FINGERPRINT_SETTING) ?? 'unknown'})`, {
        hint: 'point the platform at the key file that belongs with this database; a new key cannot open values sealed with the old one'
      })
    }
  }).immediate()
  return box
}
