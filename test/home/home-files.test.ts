import { test } from 'node:test'
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { TestContext } from 'node:test'
import { lockHome, resolveHome, secureHome } from '../../src/home/index.js'

function mode (path: string): number {
  return statSync(path).mode & 0o777
}

function tempParent (t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'roost-home-files-'))
  t.after(() => rmSync(dir, { recursive: true, force: true }))
  return dir
}

test('a new home is created 0700 with its log 0600, whatever the umask', (t) => {
  const home = resolveHome({ ROOST_HOME: join(tempParent(t), 'new-home') })
  const previous = process.umask(0o000)
  try {
    secureHome(home)
  } finally {
    process.umask(previous)
  }
  assert.equal(mode(home.root), 0o700)
  assert.equal(mode(home.logPath), 0o600)
})

test('an old home (0755, a 0644 log, config and pid file) is narrowed when the platform locks it', (t) => {
  const home = resolveHome({ ROOST_HOME: join(tempParent(t), 'old-home') })
  secureHome(home)
  chmodSync(home.root, 0o755)
  for (const file of [home.logPath, home.configPath, home.pidPath]) {
    writeFileSync(file, 'x')
    chmodSync(file, 0o644)
  }
  const unlock = lockHome(home)
  t.after(unlock)
  assert.equal(mode(home.root), 0o700)
  assert.equal(mode(home.logPath), 0o600)
  assert.equal(mode(home.configPath), 0o600)
  assert.equal(mode(home.pidPath), 0o600)
})

test('the data key has its place in the home, apart from the data folder', () => {
  const home = resolveHome({ ROOST_HOME: '/tmp/some-home' })
  assert.equal(home.keyPath, '/tmp/some-home/keys/data.key')
})
