import { test, beforeEach, afterEach } from 'node:test'
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, existsSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { validateFunction, versionConfigHash, versionConfigOf, type FunctionSpec } from '../../src/api/index.js'
import { BundleFiles, FunctionController } from '../../src/controllers/index.js'
import type { RoutingTable } from '../../src/gateway/index.js'
import { Autoscaler } from '../../src/autoscaler/index.js'
import type { InstanceInfo, VersionTarget } from '../../src/instances/index.js'
import { Store } from '../../src/store/index.js'

// The controller between a real store and autoscaler and recorders standing in
// for the instance manager and the gateway: what it wants running and routed.

let dir: string
let store: Store
let targets: VersionTarget[]
let tables: RoutingTable[]
let controller: FunctionController
let running: InstanceInfo[]

const recorder = {
  setTargets (next: VersionTarget[]): void { targets = next },
  list: () => running,
  routes: () => running.map((i) => ({ id: i.id, versionKey: i.versionKey, state: i.state, socketPath: `/run/${i.id}.sock`, secret: 'a'.repeat(64) }))
}

function readyInstance (version: number): InstanceInfo {
  return { id: `f-v${version}`, namespace: 'default', function: 'f', version, versionKey: `default/f@${version}`, state: 'ready', pid: 1, socketPath: `/run/f-v${version}.sock`, startedAt: 0, readyAt: 0, pooled: false, elu: null, cpuUs: null }
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'roost-controller-'))
  store = Store.open(dir)
  targets = []
  tables = []
  running = []
  const autoscaler = new Autoscaler({ scale: () => {} }, { onDecision: () => {} })
  controller = new FunctionController(store, recorder, autoscaler, { pushTable: (table) => tables.push(table) }, new BundleFiles(store.blobs, { dir: join(dir, 'bundles'), identityOf: null }), { queueLimit: 50 })
})

afterEach(() => {
  controller.stop()
  store.close()
  rmSync(dir, { recursive: true, force: true })
})

function deploy (name: string, spec: Record<string, unknown>, code = `export default () => new Response('${name}')`): number {
  const resource = validateFunction({ apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name }, spec: { source: './x.ts', ...spec } })
  const hash = store.blobs.put(code)
  const config = versionConfigOf(resource.spec, hash)
  return store.transaction(() => {
    const version = store.insertVersion(resource.metadata.namespace, name, { bundleHash: hash, configHash: versionConfigHash(config), config })
    store.putResource<FunctionSpec>('Function', resource.metadata.namespace, name, { spec: resource.spec, labels: {} })
    return version.number
  })
}

test('without spec.traffic the newest version gets all traffic and scale.min instances', () => {
  deploy('f', { scale: { min: 2 } })
  deploy('f', { scale: { min: 2 } }, 'export default () => new Response("v2")')
  controller.reconcile()
  assert.deepEqual(targets.map((t) => [t.key, t.replicas]), [['default/f@2', 2]])
  const fn = tables.at(-1)?.functions[0]
  assert.deepEqual(fn?.traffic, [{ version: 2, percent: 100 }])
  assert.deepEqual(fn?.versions.map((v) => [v.key, v.queueLimit]), [['default/f@2', 50]])
})

test('a split keeps each weighted version at scale.min and a tag-only version at zero', () => {
  deploy('f', { scale: { min: 1 } })
  deploy('f', { scale: { min: 1 } }, 'export default () => new Response("v2")')
  const current = store.getResource<FunctionSpec>('Function', 'default', 'f')
  store.putResource<FunctionSpec>('Function', 'default', 'f', {
    spec: { ...(current?.spec as FunctionSpec), traffic: [{ version: 1, percent: 0, tag: 'old' }, { version: 2, percent: 100 }] },
    labels: {}
  })
  controller.reconcile()
  assert.deepEqual(targets.map((t) => [t.key, t.replicas]), [['default/f@1', 0], ['default/f@2', 1]])
})

test('each version runs with the settings frozen in it and its bundle as an .mjs file', () => {
  deploy('f', { env: { A: '1' }, timeout: '5s', memory: '64Mi' })
  controller.reconcile()
  const [target] = targets
  assert.deepEqual(target.env, { A: '1' })
  assert.equal(target.timeoutMs, 5000)
  assert.equal(target.memoryMiB, 64)
  assert.ok(target.bundlePath.endsWith('.mjs'))
  assert.equal(readFileSync(target.bundlePath, 'utf8'), "export default () => new Response('f')")
})

test('spec.http.path becomes a route of the function', () => {
  deploy('f', { http: { path: '/api/f' } })
  controller.reconcile()
  assert.deepEqual(tables.at(-1)?.functions[0].paths, ['/api/f'])
})

test('a deleted function leaves no target and no route', () => {
  deploy('f', {})
  controller.reconcile()
  store.transaction(() => {
    store.deleteResource('Function', 'default', 'f')
    store.deleteVersions('default', 'f')
  })
  controller.reconcile()
  assert.deepEqual(targets, [])
  assert.deepEqual(tables.at(-1)?.functions, [])
})

test('a change in the store schedules a reconcile by itself (a watch, not a poll)', async () => {
  controller.start()
  deploy('f', {})
  await new Promise((resolve) => setImmediate(resolve))
  await new Promise((resolve) => setImmediate(resolve))
  assert.deepEqual(targets.map((t) => t.key), ['default/f@1'])
  assert.ok(existsSync(join(dir, 'bundles')))
})

test('a rollout keeps routing to the serving version until the new one has a ready instance', () => {
  deploy('f', {})
  controller.reconcile()
  running = [readyInstance(1)]
  controller.reconcile()
  deploy('f', {}, 'export default () => new Response("v2")')
  controller.reconcile()
  assert.deepEqual(tables.at(-1)?.functions[0].traffic, [{ version: 1, percent: 100 }])
  // v1 started once when it was new (and serves); v2 is held at one instance while it comes up.
  assert.deepEqual(targets.map((t) => [t.key, t.replicas]), [['default/f@1', 1], ['default/f@2', 1]], 'v2 is held at one instance while it comes up')
  running = [readyInstance(1), readyInstance(2)]
  controller.reconcile()
  assert.deepEqual(tables.at(-1)?.functions[0].traffic, [{ version: 2, percent: 100 }])
  assert.deepEqual(targets.map((t) => t.key), ['default/f@2'], 'v1 leaves the targets and drains')
})

test('a new version starts one instance at once, even at min 0, so its status can tell it starts', () => {
  deploy('f', {})
  controller.reconcile()
  assert.deepEqual(targets.map((t) => [t.key, t.replicas]), [['default/f@1', 1]])
})

test('a rollout from a version at zero starts the new one at once and moves when it is ready', () => {
  deploy('f', {})
  controller.start() // v1 existed before this start: it is taken to start, and idles at zero
  controller.reconcile()
  deploy('f', {}, 'export default () => new Response("v2")')
  controller.reconcile()
  // v1 can still be started on demand; v2 has not shown yet that it starts at all.
  assert.deepEqual(tables.at(-1)?.functions[0].traffic, [{ version: 1, percent: 100 }])
  assert.deepEqual(targets.map((t) => [t.key, t.replicas]), [['default/f@1', 0], ['default/f@2', 1]])
  running = [readyInstance(2)]
  controller.reconcile()
  assert.deepEqual(tables.at(-1)?.functions[0].traffic, [{ version: 2, percent: 100 }])
})

test('a rollout moves at once to a version known to start (a rollback to one at zero)', () => {
  deploy('f', {})
  deploy('f', {}, 'export default () => new Response("v2")')
  controller.start() // both versions existed before: they are taken to start
  running = []
  controller.reconcile()
  assert.deepEqual(tables.at(-1)?.functions[0].traffic, [{ version: 2, percent: 100 }])
  const current = store.getResource<FunctionSpec>('Function', 'default', 'f')
  store.putResource<FunctionSpec>('Function', 'default', 'f', { spec: { ...(current?.spec as FunctionSpec), traffic: [{ version: 1, percent: 100 }] }, labels: {} })
  controller.reconcile()
  assert.deepEqual(tables.at(-1)?.functions[0].traffic, [{ version: 1, percent: 100 }])
})

test('a new version that failed to start gets no routes while the old one can serve, and its status says why', () => {
  deploy('f', {})
  controller.reconcile()
  running = [readyInstance(1)]
  controller.reconcile()
  running = []
  controller.reconcile() // v1 scaled to zero since
  deploy('f', {}, 'throw new Error("boom")')
  controller.reconcile()
  controller.startFailed('default/f@2', 'the module failed to load: Error: boom')
  controller.reconcile()
  assert.deepEqual(tables.at(-1)?.functions[0].traffic, [{ version: 1, percent: 100 }])
  assert.deepEqual(controller.startFailure('default', 'f', 2)?.reason, 'the module failed to load: Error: boom')
  assert.equal(controller.startFailure('default', 'f', 1), undefined)
  // Once it has a ready instance, the failure is history.
  running = [readyInstance(2)]
  assert.equal(controller.startFailure('default', 'f', 2), undefined)
})

test('a fix of a function whose only version cannot start takes the routes at once', () => {
  deploy('f', {}, 'throw new Error("boom")')
  controller.reconcile()
  controller.startFailed('default/f@1', 'the module failed to load: Error: boom')
  controller.reconcile()
  assert.deepEqual(tables.at(-1)?.functions[0].traffic, [{ version: 1, percent: 100 }])
  deploy('f', {}, 'export default () => new Response("fixed")')
  controller.reconcile()
  assert.deepEqual(tables.at(-1)?.functions[0].traffic, [{ version: 2, percent: 100 }])
  assert.deepEqual(targets.map((t) => t.key), ['default/f@2'], 'the broken version leaves the targets')
})

test('a rollback waits for the old version to be ready again, then moves', () => {
  deploy('f', {})
  deploy('f', {}, 'export default () => new Response("v2")')
  running = [readyInstance(2)]
  controller.reconcile()
  const current = store.getResource<FunctionSpec>('Function', 'default', 'f')
  store.putResource<FunctionSpec>('Function', 'default', 'f', { spec: { ...(current?.spec as FunctionSpec), traffic: [{ version: 1, percent: 100 }] }, labels: {} })
  controller.reconcile()
  assert.deepEqual(tables.at(-1)?.functions[0].traffic, [{ version: 2, percent: 100 }])
  assert.deepEqual(targets.map((t) => [t.key, t.replicas]), [['default/f@1', 1], ['default/f@2', 0]])
  running = [readyInstance(1), readyInstance(2)]
  controller.reconcile()
  assert.deepEqual(tables.at(-1)?.functions[0].traffic, [{ version: 1, percent: 100 }])
})

test('each routed function carries its compiled governance, recompiled when a rule changes', () => {
  deploy('f', { governance: { retries: { attempts: 2 } } })
  const fn = store.getResource<FunctionSpec>('Function', 'default', 'f')
  store.putResource<FunctionSpec>('Function', 'default', 'f', { spec: fn?.spec as FunctionSpec, labels: { app: 'foo-app' } })
  controller.reconcile()
  assert.deepEqual(tables.at(-1)?.functions[0].governance, { rules: [], retry: { attempts: 2, baseMs: 25, capMs: 1000, budgetRatio: 0.2, budgetMinPerSecond: 3 }, lanes: [], auth: { mode: 'none' } })
  store.putResource('RateLimitStrategy', 'default', 'ten', { spec: { threshold: 10, statDuration: '1s' }, labels: {} })
  store.putResource('FaultToleranceRule', 'default', 'r', { spec: { selector: { app: 'foo-app' }, targets: [{ targetResourceName: '/foo' }], strategies: [{ name: 'ten' }] }, labels: {} })
  controller.reconcile()
  assert.deepEqual(tables.at(-1)?.functions[0].governance?.rules.map((r) => [r.id, r.strategies.map((s) => s.name)]), [['FaultToleranceRule/r', ['ten']]])
  store.deleteResource('FaultToleranceRule', 'default', 'r')
  controller.reconcile()
  assert.deepEqual(tables.at(-1)?.functions[0].governance?.rules, [])
})
