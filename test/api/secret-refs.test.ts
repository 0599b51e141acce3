import { test } from 'node:test'
import { createHash } from 'node:crypto'
import assert from 'node:assert/strict'
import { validateFunction } from '../../src/api/validate.js'
import { resolveSecrets, secretNamesOf } from '../../src/api/secret-refs.js'
import { instanceEnv, publicVersionConfig, versionConfigHash, versionConfigOf } from '../../src/api/version-config.js'
import { dataOf } from '../../src/api/secret-routes.js'
import { ValidationError, type FieldProblem } from '../../src/errors/index.js'

type Doc = Record<string, any>
const ref = (name: string, key: string): Doc => ({ valueFrom: { secretKeyRef: { name, key } } })

function fn (spec: Doc): Doc {
  return { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'api' }, spec: { source: './api.ts', ...spec } }
}

function problems (run: () => unknown): FieldProblem[] {
  try {
    run()
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err))
    return err.errors
  }
  assert.fail('expected a ValidationError')
}

const secrets: Record<string, { data: Record<string, string>, resourceVersion: number }> = {
  db: { data: { PASSWORD: 'pw1', USER: 'app' }, resourceVersion: 7 },
  extra: { data: { USER: 'other', TOKEN: 't' }, resourceVersion: 9 }
}
const lookup = (name: string): typeof secrets[string] | undefined => secrets[name]

test('env accepts secretKeyRef values and envFrom secretRefs, and keeps them as written', () => {
  const resource = validateFunction(fn({ env: { MODE: 'prod', DB_PASSWORD: ref('db', 'PASSWORD') }, envFrom: [{ secretRef: { name: 'extra' } }] }))
  assert.deepEqual(resource.spec.env, { MODE: 'prod', DB_PASSWORD: ref('db', 'PASSWORD') })
  assert.deepEqual(resource.spec.envFrom, [{ secretRef: { name: 'extra' } }])
  assert.deepEqual(secretNamesOf(resource.spec), ['extra', 'db'])
  assert.equal(validateFunction(fn({})).spec.envFrom, undefined)
})

test('malformed references are refused with their field paths', () => {
  const fields = problems(() => validateFunction(fn({
    env: { A: { valueFrom: { secretKeyRef: { name: 'Bad_Name', key: 'K' } } }, B: { valueFrom: { secretKeyRef: { name: 'db' } } }, C: { valueFrom: {} } },
    envFrom: [{ secretRef: {} }, { configMapRef: { name: 'x' } }]
  }))).map((p) => p.field)
  for (const field of ['spec.env.A.valueFrom.secretKeyRef.name', 'spec.env.B.valueFrom.secretKeyRef.key', 'spec.env.C.valueFrom.secretKeyRef', 'spec.envFrom[0].secretRef.name', 'spec.envFrom[1].configMapRef']) {
    assert.ok(fields.includes(field), `${field} not among ${fields.join(', ')}`)
  }
})

test('a missing secret or key is refused naming the field', () => {
  const spec = validateFunction(fn({ env: { DB_PASSWORD: ref('db', 'PASSWORD2'), OTHER: ref('nope', 'X') }, envFrom: [{ secretRef: { name: 'gone' } }] })).spec
  const found = problems(() => resolveSecrets(spec, lookup))
  assert.deepEqual(found.map((p) => p.field), ['spec.envFrom[0].secretRef', 'spec.env.DB_PASSWORD.valueFrom.secretKeyRef', 'spec.env.OTHER.valueFrom.secretKeyRef'])
  assert.match(found[1].message, /secret db has no key PASSWORD2; it has PASSWORD, USER/)
  assert.match(found[2].message, /secret nope does not exist/)
})

test('resolution: env wins over envFrom, literals stay apart, the hash moves with the secret\'s version and not its value', () => {
  const spec = validateFunction(fn({ env: { USER: 'literal', DB_PASSWORD: ref('db', 'PASSWORD') }, envFrom: [{ secretRef: { name: 'extra' } }] })).spec
  const resolved = resolveSecrets(spec, lookup)
  assert.ok(resolved !== undefined)
  assert.deepEqual({ ...resolved.values }, { TOKEN: 't', DB_PASSWORD: 'pw1' })
  assert.deepEqual(resolved.refs.versions, { extra: 9, db: 7 })
  const config = versionConfigOf(spec, 'b'.repeat(64), resolved)
  assert.deepEqual(config.env, { USER: 'literal' })
  assert.deepEqual(instanceEnv(config), { USER: 'literal', TOKEN: 't', DB_PASSWORD: 'pw1' })
  assert.equal('secretEnv' in publicVersionConfig(config), false)
  assert.equal(JSON.stringify(publicVersionConfig(config)).includes('pw1'), false)

  const otherValue = versionConfigOf(spec, 'b'.repeat(64), { refs: resolved.refs, values: { ...resolved.values, DB_PASSWORD: 'pw2' } })
  assert.equal(versionConfigHash(otherValue), versionConfigHash(config), 'the hash must not depend on a value')
  const newer = versionConfigOf(spec, 'b'.repeat(64), { refs: { ...resolved.refs, versions: { extra: 9, db: 8 } }, values: resolved.values })
  assert.notEqual(versionConfigHash(newer), versionConfigHash(config))
  assert.equal(resolveSecrets(validateFunction(fn({ env: { A: 'x' } })).spec, lookup), undefined)
})

test('a config without secrets hashes as before secrets existed', () => {
  const config = versionConfigOf(validateFunction(fn({ env: { A: 'x' } })).spec, 'b'.repeat(64))
  assert.equal(config.secretRefs, undefined)
  // the formula of the hash before secrets: stored versions must still match an unchanged apply
  const before = createHash('sha256').update(JSON.stringify([config.bundleHash, [['A', 'x']], config.timeoutMs, config.memoryMiB, config.concurrency])).digest('hex')
  assert.equal(versionConfigHash(config), before)
})

test('secret data: variable-like keys, string values, nothing reserved', () => {
  assert.deepEqual(dataOf({ data: { A: '1', __proto__x: '2' } }), { A: '1', __proto__x: '2' })
  const fields = problems(() => dataOf({ data: { 'bad-key': 'x', ROOST_X: 'y', N: 3 } })).map((p) => p.field)
  assert.deepEqual(fields, ['data.bad-key', 'data.ROOST_X', 'data.N'])
  assert.deepEqual(problems(() => dataOf({ data: {} })).map((p) => p.field), ['data'])
  assert.deepEqual(problems(() => dataOf({})).map((p) => p.field), ['data'])
})
