import { test } from 'node:test'
import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, statSync, writeFileSync, existsSync } from 'node:fs'
import { tmpdir, homedir } from 'node:os'
import { join } from 'node:path'
import { lockHome, readClientConfig, resolveHome, writeClientConfig } from '../../src/home/index.js'

test('ROOST_HOME chooses the home; without it the home is ~/.roost', () => {
  assert.equal(resolveHome({ ROOST_HOME: '/tmp/x' }).root, '/tmp/x')
  assert.equal(resolveHome({}).root, join(homedir(), '.roost'))
})

test('the config file is written atomically and readable by its owner only', () => {
  const home = resolveHome({ ROOST_HOME: mkdtempSync(join(tmpdir(), 'roost-home-')) })
  writeClientConfig(home, { api: 'http://127.0.0.1:1', gateway: 'http://127.0.0.1:2', token: 'roost_secret' })
  assert.equal(statSync(home.configPath).mode & 0o777, 0o600)
  assert.deepEqual(readClientConfig(home), { api: 'http://127.0.0.1:1', gateway: 'http://127.0.0.1:2', token: 'roost_secret' })
})

test('a config file that is not ours reads as none', () => {
  const home = resolveHome({ ROOST_HOME: mkdtempSync(join(tmpdir(), 'roost-home-')) })
  writeFileSync(home.configPath, '{ not json')
  assert.equal(readClientConfig(home), undefined)
})

test('a live platform holds its home; the lock is released on unlock', () => {
  const home = resolveHome({ ROOST_HOME: mkdtempSync(join(tmpdir(), 'roost-home-')) })
  const unlock = lockHome(home)
  writeFileSync(home.pidPath, `${process.ppid}\n`)
  assert.throws(() => lockHome(home), { code: 'ROOST_E_STARTUP', message: new RegExp(`pid ${process.ppid}`) })
  writeFileSync(home.pidPath, `${process.pid}\n`)
  unlock()
  assert.equal(existsSync(home.pidPath), false)
})

test('the pid file of a dead platform is stale and taken over', () => {
  const home = resolveHome({ ROOST_HOME: mkdtempSync(join(tmpdir(), 'roost-home-')) })
  const dead = spawnSync(process.execPath, ['-e', 'console.log(process.pid)']).stdout.toString().trim()
  writeFileSync(home.pidPath, `${dead}\n`)
  const unlock = lockHome(home)
  assert.equal(readFileSync(home.pidPath, 'utf8').trim(), String(process.pid))
  unlock()
})
