import { test } from 'node:test'
import assert from 'node:assert/strict'
import { NamespaceIdentities } from '../../src/isolation/index.js'

test('each namespace gets its own uid and gid from 200000, the same every time, and each new one is persisted once', () => {
  const persisted: Array<[string, number]> = []
  const ids = new NamespaceIdentities({ persist: (ns, uid) => persisted.push([ns, uid]) })
  assert.deepEqual(ids.identityOf('default'), { uid: 200000, gid: 200000 })
  assert.deepEqual(ids.identityOf('team-a'), { uid: 200001, gid: 200001 })
  assert.deepEqual(ids.identityOf('default'), { uid: 200000, gid: 200000 })
  assert.deepEqual(persisted, [['default', 200000], ['team-a', 200001]])
})

test('assignments made before are kept and never given to another namespace', () => {
  const ids = new NamespaceIdentities({ known: [['team-a', 200000], ['team-c', 200002]] })
  assert.equal(ids.identityOf('team-a').uid, 200000)
  assert.equal(ids.identityOf('team-b').uid, 200001)
  assert.equal(ids.identityOf('team-d').uid, 200003)
  assert.equal(ids.identityOf('team-c').uid, 200002)
})

test('a full range and bad persisted values are errors, not shared uids', () => {
  const ids = new NamespaceIdentities({ count: 2 })
  ids.identityOf('a')
  ids.identityOf('b')
  assert.throws(() => ids.identityOf('c'), /all 2 namespace uids/)
  assert.throws(() => new NamespaceIdentities({ known: [['a', 5]] }), /outside/)
  assert.throws(() => new NamespaceIdentities({ known: [['a', 200000], ['b', 200000]] }), /two namespaces/)
})
