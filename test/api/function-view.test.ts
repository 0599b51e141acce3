import { test } from 'node:test'
import assert from 'node:assert/strict'
import { validateFunction, viewFunction, type Condition, type FunctionSpec, type InstanceSummary, type VersionConfig } from '../../src/api/index.js'
import type { StoredResource, StoredVersion } from '../../src/store/index.js'

// Status from versions, instances and what the platform knows live: a version
// that cannot start is not ready, with its cause, and is never "rolled out".

function fn (scale: Record<string, unknown> = {}): StoredResource<FunctionSpec> {
  const { spec } = validateFunction({ apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'f' }, spec: { source: './f.ts', scale } })
  return { kind: 'Function', namespace: 'default', name: 'f', uid: 'u', resourceVersion: 1, generation: 1, labels: {}, spec, createdAt: '', updatedAt: '' } as unknown as StoredResource<FunctionSpec>
}

function versions (...numbers: number[]): Array<StoredVersion<VersionConfig>> {
  return numbers.map((number) => ({ number, bundleHash: 'h', configHash: 'c', config: {} as VersionConfig, createdAt: '' }) as unknown as StoredVersion<VersionConfig>)
}

function instance (version: number, state: InstanceSummary['state']): InstanceSummary {
  return { id: `f-v${version}`, namespace: 'default', function: 'f', version, state, pid: 1, startedAt: 0, readyAt: null, inFlight: 0, pooled: true }
}

const scaled = (desired: number) => () => ({ desired, floor: desired, panic: false, observed: { stable: { concurrency: 0, rps: 0 }, panic: { concurrency: 0, rps: 0 } }, lastDecision: null })
const failure = { reason: 'the module failed to load: Error: boom', at: 0 }

function condition (conditions: Condition[], type: string): [string, string, string] {
  const found = conditions.find((c) => c.type === type)
  assert.ok(found !== undefined)
  return [found.status, found.reason, found.message]
}

test('a version whose start failed is not ready, with the cause, and the rollout is not done', () => {
  const view = viewFunction(fn({ min: 1 }), versions(1), [], { scaling: scaled(1), serving: [{ version: 1, percent: 100 }], startFailure: () => failure })
  assert.deepEqual(condition(view.status.conditions, 'Ready'), ['False', 'StartFailed', 'v1 cannot start: the module failed to load: Error: boom'])
  assert.deepEqual(condition(view.status.conditions, 'RolledOut'), ['False', 'StartFailed', 'v1 cannot start: the module failed to load: Error: boom; nothing serves'])
  assert.deepEqual(condition(view.status.versions[0].conditions, 'Ready'), ['False', 'StartFailed', failure.reason])
})

test('a new version that cannot start while the old one serves: ready, not rolled out', () => {
  const view = viewFunction(fn({ min: 1 }), versions(1, 2), [instance(1, 'ready')], {
    scaling: scaled(1),
    serving: [{ version: 1, percent: 100 }],
    startFailure: (v) => (v === 2 ? failure : undefined)
  })
  assert.equal(condition(view.status.conditions, 'Ready')[0], 'True')
  assert.deepEqual(condition(view.status.conditions, 'RolledOut'), ['False', 'StartFailed', 'v2 cannot start: the module failed to load: Error: boom; v1 100% serves'])
})

test('routed as asked but with no ready instance yet is not rolled out; at zero with min 0 it is', () => {
  const starting = viewFunction(fn({ min: 1 }), versions(1), [instance(1, 'starting')], { scaling: scaled(1), serving: [{ version: 1, percent: 100 }] })
  assert.deepEqual(condition(starting.status.conditions, 'RolledOut').slice(0, 2), ['False', 'Starting'])
  assert.deepEqual(condition(starting.status.versions[0].conditions, 'Ready').slice(0, 2), ['False', 'Starting'])
  const notYet = viewFunction(fn({ min: 1 }), versions(1), [], { scaling: () => undefined, serving: [{ version: 1, percent: 100 }] })
  assert.deepEqual(condition(notYet.status.conditions, 'RolledOut').slice(0, 2), ['False', 'Starting'])
  const zero = viewFunction(fn(), versions(1), [], { scaling: scaled(0), serving: [{ version: 1, percent: 100 }] })
  assert.deepEqual(condition(zero.status.conditions, 'RolledOut').slice(0, 2), ['True', 'Serving'])
  assert.deepEqual(condition(zero.status.versions[0].conditions, 'Ready').slice(0, 2), ['True', 'ScaledToZero'])
})

test('a failure is not shown once the version has a ready instance', () => {
  const view = viewFunction(fn({ min: 1 }), versions(1), [instance(1, 'ready')], { scaling: scaled(1), serving: [{ version: 1, percent: 100 }], startFailure: () => failure })
  assert.deepEqual(condition(view.status.conditions, 'Ready').slice(0, 2), ['True', 'InstancesReady'])
  assert.deepEqual(condition(view.status.conditions, 'RolledOut').slice(0, 2), ['True', 'Serving'])
  assert.deepEqual(condition(view.status.versions[0].conditions, 'Ready').slice(0, 2), ['True', 'InstancesReady'])
})
