import { test, after } from 'node:test'
import assert from 'node:assert/strict'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { validateFunction } from '../../src/api/index.js'
import { inlineKeysFile } from '../../src/cli/keys-file.js'
import type { LoadedFunction } from '../../src/cli/manifest-files.js'
import { ValidationError } from '../../src/errors/index.js'

const dir = mkdtempSync(join(tmpdir(), 'roost-keys-file-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' })
const ed = generateKeyPairSync('ed25519')
const ecPem = ec.publicKey.export({ type: 'spki', format: 'pem' }) as string
const edPem = ed.publicKey.export({ type: 'spki', format: 'pem' }) as string
const ecJwk = { ...ec.publicKey.export({ format: 'jwk' }), kid: 'ec-1' }

function loaded (auth: Record<string, unknown>): LoadedFunction {
  const doc = { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: 'f' }, spec: { source: './f.ts', http: { auth: { mode: 'jwt', ...auth } } } }
  return { type: 'function', where: 'roost.yaml:1', whereField: () => 'roost.yaml:1', root: dir, doc, resource: validateFunction(doc) }
}

function file (name: string, text: string): string {
  writeFileSync(join(dir, name), text)
  return `./${name}`
}

function refusal (run: () => void): string {
  try {
    run()
  } catch (err) {
    assert.ok(err instanceof ValidationError, String(err))
    return `${err.errors[0]?.field}: ${err.message}`
  }
  assert.fail('expected a refusal')
}

test('a JWKS file becomes jwks; the manifest sent and the resource hold no keysFile', () => {
  const manifest = loaded({ keysFile: file('jwks.json', JSON.stringify({ keys: [ecJwk] })) })
  inlineKeysFile(manifest)
  assert.deepEqual((manifest.doc as any).spec.http.auth, { mode: 'jwt', jwks: { keys: [ecJwk] } })
  assert.deepEqual(manifest.resource.spec.http.auth, { mode: 'jwt', clockSkew: '30s', jwks: { keys: [ecJwk] } })
})

test('a single JWK file becomes a JWKS of one key, after the jwks written inline', () => {
  const other = { ...ed.publicKey.export({ format: 'jwk' }), kid: 'ed-1' }
  const manifest = loaded({ jwks: { keys: [other] }, keysFile: file('one.jwk', JSON.stringify(ecJwk)) })
  inlineKeysFile(manifest)
  assert.deepEqual((manifest.doc as any).spec.http.auth.jwks, { keys: [other, ecJwk] })
})

test('a PEM file becomes one key per block, after the keys written inline', () => {
  const manifest = loaded({ issuer: 'https://issuer.test', keys: [{ kid: 'x', pem: ecPem }], keysFile: file('keys.pem', `# issuer keys\n${ecPem}\n${edPem}`) })
  inlineKeysFile(manifest)
  assert.deepEqual((manifest.doc as any).spec.http.auth, { mode: 'jwt', issuer: 'https://issuer.test', keys: [{ kid: 'x', pem: ecPem }, { pem: ecPem }, { pem: edPem }] })
})

test('a manifest without keysFile is left as it is', () => {
  const manifest = loaded({ keys: [{ pem: ecPem }] })
  const before = JSON.stringify(manifest.doc)
  inlineKeysFile(manifest)
  assert.equal(JSON.stringify(manifest.doc), before)
})

test('a missing, empty or foreign file is refused at spec.http.auth.keysFile, naming the document', () => {
  assert.equal(refusal(() => inlineKeysFile(loaded({ keysFile: './nope.json' }))), 'spec.http.auth.keysFile: roost.yaml:1: spec.http.auth.keysFile: cannot read ./nope.json (relative to the manifest): ENOENT')
  assert.match(refusal(() => inlineKeysFile(loaded({ keysFile: file('bad.json', '{ "keys": ') }))), /is not valid JSON/)
  assert.match(refusal(() => inlineKeysFile(loaded({ keysFile: file('other.json', '{ "issuer": "x" }') }))), /neither a JWKS .* nor a JWK/)
  assert.match(refusal(() => inlineKeysFile(loaded({ keysFile: file('notes.txt', 'hello') }))), /neither JSON .* nor PEM blocks/)
})

test('the keys read are validated as inline keys are: a private key in the file is refused', () => {
  const privatePem = ec.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string
  assert.match(refusal(() => inlineKeysFile(loaded({ keysFile: file('private.pem', privatePem) }))), /^spec\.http\.auth\.keys\[0\]\.pem: .*this is a private key/)
})
