import { test } from 'node:test'
import assert from 'node:assert/strict'
import { parseLabelSelector } from '../../src/cli/label-selector.js'

const web = { app: 'web', tier: 'front', env: 'prod' }
const db = { app: 'db', tier: 'back' }
const bare = {}

function selects (selector: string): Array<Record<string, string>> {
  const parsed = parseLabelSelector(selector)
  return [web, db, bare].filter((labels) => parsed.matches(labels))
}

test('k=v and k==v need the label with that value', () => {
  assert.deepEqual(selects('app=web'), [web])
  assert.deepEqual(selects('app==db'), [db])
})

test('k!=v holds for other values and for objects without the label, as in Kubernetes', () => {
  assert.deepEqual(selects('app!=web'), [db, bare])
})

test('in and notin take a set of values', () => {
  assert.deepEqual(selects('app in (web,db)'), [web, db])
  assert.deepEqual(selects('app in (web, api)'), [web])
  assert.deepEqual(selects('app notin (web)'), [db, bare])
})

test('a bare key needs the label, !key its absence', () => {
  assert.deepEqual(selects('env'), [web])
  assert.deepEqual(selects('!env'), [db, bare])
})

test('commas join requirements that must all hold, commas inside a set included', () => {
  assert.deepEqual(selects('tier in (front,back),app!=db'), [web])
  assert.deepEqual(selects('app=web,env=staging'), [])
  assert.deepEqual(parseLabelSelector('a=1, b in (x,y) ,!c').requirements, [
    { key: 'a', op: 'in', values: ['1'] },
    { key: 'b', op: 'in', values: ['x', 'y'] },
    { key: 'c', op: 'absent' }
  ])
})

test('prefixed keys such as roost.dev/team are keys', () => {
  assert.equal(parseLabelSelector('roost.dev/team=a').matches({ 'roost.dev/team': 'a' }), true)
})

test('malformed selectors are usage errors with examples', () => {
  for (const bad of ['', 'app=web,', 'app in ()', 'app in (a,,b)', 'bad key=x', 'app=we b', '=x']) {
    assert.throws(() => parseLabelSelector(bad), { code: 'ROOST_E_USAGE', hint: /-l app=web/ }, bad)
  }
})
