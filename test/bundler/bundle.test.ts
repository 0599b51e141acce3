import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { bundleInline, bundleSource, contentHash, type BundleResult } from '../../src/bundler/index.js'
import { BuildError, SourcePathError } from '../../src/errors/index.js'

type Files = Record<string, string>
type Handler = (req: Request) => Promise<Response>

// Every test gets its own folder, removed afterwards, holding the files it names.
async function withFolder<T> (files: Files, fn: (root: string) => Promise<T>): Promise<T> {
  const root = await mkdtemp(path.join(os.tmpdir(), 'roost-build-'))
  try {
    await writeFiles(root, files)
    return await fn(root)
  } finally {
    await rm(root, { recursive: true, force: true })
  }
}

async function writeFiles (root: string, files: Files): Promise<void> {
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(root, name)
    await mkdir(path.dirname(file), { recursive: true })
    await writeFile(file, text)
  }
}

// Imports a bundle the way an instance would: as an .mjs file of its own,
// away from the source folder, so that only what is in the bundle counts.
async function importBundle (result: BundleResult): Promise<Record<string, unknown>> {
  return await withFolder({ 'bundle.mjs': result.code }, async (dir) => {
    return await import(pathToFileURL(path.join(dir, 'bundle.mjs')).href) as Record<string, unknown>
  })
}

async function callDefault (result: BundleResult): Promise<string> {
  const mod = await importBundle(result)
  const exported = mod.default
  const handler = typeof exported === 'function'
    ? exported as Handler
    : (exported as { fetch: Handler }).fetch
  const res = await handler(new Request('http://x/'))
  return await res.text()
}

async function rejectsWith<E extends Error> (promise: Promise<unknown>, kind: new (...args: never[]) => E): Promise<E> {
  try {
    await promise
  } catch (err) {
    assert.ok(err instanceof kind, `expected ${kind.name}, got ${String(err)}`)
    return err
  }
  assert.fail(`expected ${kind.name}, but it resolved`)
}

const TS_HANDLER = `interface Greeting { text: string }
const greeting: Greeting = { text: 'hello from ts' }
export default async function (req: Request): Promise<Response> {
  return new Response(greeting.text + ' ' + new URL(req.url).pathname)
}
`

test('a TypeScript file with types builds into a runnable ESM module', async () => {
  await withFolder({ 'hello.ts': TS_HANDLER }, async (root) => {
    const result = await bundleSource({ source: './hello.ts', root })
    assert.equal(result.entry, 'hello.ts')
    assert.equal(result.hash, contentHash(result.code))
    assert.match(result.hash, /^[0-9a-f]{64}$/)
    assert.equal(result.bytes, Buffer.byteLength(result.code))
    assert.deepEqual(result.warnings, [])
    assert.doesNotMatch(result.code, /interface Greeting/)
    assert.equal(await callDefault(result), 'hello from ts /')
  })
})

test('the inline source map names the user\'s file without carrying its source', async () => {
  await withFolder({ 'hello.ts': TS_HANDLER }, async (root) => {
    const { code } = await bundleSource({ source: 'hello.ts', root })
    const encoded = /\/\/# sourceMappingURL=data:application\/json;base64,(\S+)\s*$/.exec(code)?.[1]
    assert.ok(encoded !== undefined, 'an inline source map ends the bundle')
    const map = JSON.parse(Buffer.from(encoded, 'base64').toString('utf8')) as { sources: string[], sourcesContent?: unknown }
    assert.deepEqual(map.sources, ['hello.ts'])
    assert.equal(map.sourcesContent, undefined)
  })
})

test('with --enable-source-maps a stack trace shows the user\'s file and line', async () => {
  const source = 'const unused: number = 1\n\nexport default function () {\n  throw new Error(\'boom\')\n}\n'
  await withFolder({ 'fn/thrower.ts': source }, async (root) => {
    const result = await bundleSource({ source: 'fn/thrower.ts', root })
    await withFolder({ 'bundle.mjs': result.code }, async (dir) => {
      const script = `import(${JSON.stringify(pathToFileURL(path.join(dir, 'bundle.mjs')).href)}).then((m) => { try { m.default() } catch (err) { console.log(err.stack) } })`
      const { stdout } = await promisify(execFile)(process.execPath, ['--enable-source-maps', '-e', script])
      assert.match(stdout, /fn\/thrower\.ts:4:9/)
    })
  })
})

test('an ESM JavaScript file keeps its default export object', async () => {
  const files = { 'api.mjs': 'export default { async fetch (req) { return new Response(\'esm \' + req.method) } }\nexport const extra = 1\n' }
  await withFolder(files, async (root) => {
    const result = await bundleSource({ source: 'api.mjs', root })
    const mod = await importBundle(result)
    assert.equal(typeof mod.default, 'object')
    assert.equal(mod.extra, 1)
    assert.equal(await callDefault(result), 'esm GET')
  })
})

test('a CommonJS `module.exports = function` becomes the default export', async () => {
  const files = { 'handler.js': 'const path = require(\'node:path\')\nmodule.exports = async (req) => new Response(\'cjs \' + path.posix.join(\'a\', \'b\'))\n' }
  await withFolder(files, async (root) => {
    const result = await bundleSource({ source: 'handler.js', root })
    const mod = await importBundle(result)
    assert.equal(typeof mod.default, 'function')
    assert.equal(await callDefault(result), 'cjs a/b')
  })
})

test('a CommonJS `module.exports = { fetch }` becomes the default export', async () => {
  const files = { 'handler.cjs': 'async function fetch (req) { return new Response(\'cjs object\') }\nmodule.exports = { fetch }\n' }
  await withFolder(files, async (root) => {
    const result = await bundleSource({ source: 'handler.cjs', root })
    const mod = await importBundle(result)
    assert.equal(typeof mod.default, 'object')
    assert.equal(typeof (mod.default as { fetch: unknown }).fetch, 'function')
    assert.equal(await callDefault(result), 'cjs object')
  })
})

test('a folder with a package.json main builds from that main', async () => {
  const files = {
    'fn/package.json': JSON.stringify({ name: 'fn', main: 'src/main.ts' }),
    'fn/index.ts': 'export default () => new Response(\'wrong entry\')\n',
    'fn/src/main.ts': 'export default async (): Promise<Response> => new Response(\'from main\')\n'
  }
  await withFolder(files, async (root) => {
    const result = await bundleSource({ source: './fn', root })
    assert.equal(result.entry, 'fn/src/main.ts')
    assert.equal(await callDefault(result), 'from main')
  })
})

test('a package.json main without extension and exports["."] with conditions are followed', async () => {
  const files = {
    'a/package.json': JSON.stringify({ main: 'lib/start' }),
    'a/lib/start.ts': 'export default () => new Response(\'a\')\n',
    'b/package.json': JSON.stringify({ main: 'main.cjs', exports: { '.': { require: './main.cjs', import: './main.mjs' } } }),
    'b/main.cjs': 'module.exports = () => new Response(\'b cjs\')\n',
    'b/main.mjs': 'export default () => new Response(\'b esm\')\n'
  }
  await withFolder(files, async (root) => {
    assert.equal((await bundleSource({ source: 'a', root })).entry, 'a/lib/start.ts')
    const b = await bundleSource({ source: 'b/', root })
    assert.equal(b.entry, 'b/main.mjs')
    assert.equal(await callDefault(b), 'b esm')
  })
})

test('a package.json main that does not exist is a build error naming it', async () => {
  await withFolder({ 'fn/package.json': JSON.stringify({ main: 'dist/index.js' }) }, async (root) => {
    const err = await rejectsWith(bundleSource({ source: 'fn', root }), BuildError)
    assert.match(err.message, /main "dist\/index\.js" does not exist/)
    assert.equal(err.field, 'spec.source')
  })
})

test('a folder with index.ts builds from it; one without an entry lists what was looked for', async () => {
  const files = { 'fn/index.ts': TS_HANDLER, 'fn/handler.ts': 'export default 1\n', 'empty/readme.md': 'hi' }
  await withFolder(files, async (root) => {
    const result = await bundleSource({ source: 'fn', root })
    assert.equal(result.entry, 'fn/index.ts')
    assert.equal(await callDefault(result), 'hello from ts /')
    const err = await rejectsWith(bundleSource({ source: 'empty', root }), BuildError)
    assert.match(err.message, /index\.ts, index\.mts, index\.js, index\.mjs, index\.cjs, handler\.ts/)
    assert.equal(err.field, 'spec.source')
  })
})

const DEPENDENCIES: Files = {
  'node_modules/esm-dep/package.json': JSON.stringify({ name: 'esm-dep', type: 'module', exports: { '.': { import: './index.js' } } }),
  'node_modules/esm-dep/index.js': 'export const shout = (s) => s.toUpperCase() + \'!\'\n',
  'node_modules/cjs-dep/package.json': JSON.stringify({ name: 'cjs-dep', main: 'lib/index.js' }),
  'node_modules/cjs-dep/lib/index.js': 'const crypto = require(\'node:crypto\')\nconst fs = require(\'fs\')\nexports.digest = (s) => crypto.createHash(\'sha256\').update(s).digest(\'hex\')\nexports.hasFs = typeof fs.readFileSync === \'function\'\n'
}

const USES_DEPENDENCIES = `import { shout } from 'esm-dep'
import cjs from 'cjs-dep'
export default async (req: Request): Promise<Response> => {
  return new Response(shout('hi') + ' ' + cjs.digest('x') + ' ' + String(cjs.hasFs))
}
`

test('npm dependencies in node_modules are bundled, ESM and CJS, and a CJS require of a builtin runs', async () => {
  await withFolder({ ...DEPENDENCIES, 'fn/deps.ts': USES_DEPENDENCIES }, async (root) => {
    const result = await bundleSource({ source: 'fn/deps.ts', root })
    assert.match(result.code, /__roostCreateRequire/)
    assert.doesNotMatch(result.code, /from ['"](esm-dep|cjs-dep)['"]/, 'dependencies are inlined, not imported')
    const expected = 'HI! ' + contentHash('x') + ' true'
    assert.equal(await callDefault(result), expected)
  })
})

test('a user\'s own top-level `require` does not clash with the banner', async () => {
  const files = { 'own.mjs': 'import { createRequire } from \'node:module\'\nconst require = createRequire(import.meta.url)\nexport default () => new Response(require(\'node:path\').sep)\n' }
  await withFolder(files, async (root) => {
    assert.equal(await callDefault(await bundleSource({ source: 'own.mjs', root })), '/')
  })
})

test('a syntax error is a build error at file:line:col', async () => {
  await withFolder({ 'src/bad.ts': 'const x = 1\nconst y = foo(;\n' }, async (root) => {
    const err = await rejectsWith(bundleSource({ source: 'src/bad.ts', root }), BuildError)
    assert.equal(err.message, 'src/bad.ts:2:15: Unexpected ";"')
    assert.equal(err.code, 'ROOST_E_BUILD')
    assert.equal(err.field, 'spec.source')
    assert.equal(err.hint, 'fix the source and apply again')
  })
})

test('a type error is not a build error: esbuild strips types', async () => {
  await withFolder({ 'typo.ts': 'const n: number = \'not a number\'\nexport default () => new Response(String(n))\n' }, async (root) => {
    assert.equal(await callDefault(await bundleSource({ source: 'typo.ts', root })), 'not a number')
  })
})

test('a missing import is a build error naming it, and counts the other errors', async () => {
  const files = { 'app.ts': 'import pad from \'left-pad\'\nimport { x } from \'./nope.js\'\nexport default () => new Response(pad(x))\n' }
  await withFolder(files, async (root) => {
    const err = await rejectsWith(bundleSource({ source: 'app.ts', root }), BuildError)
    assert.equal(err.message, 'app.ts:1:17: Could not resolve "left-pad" (and 1 more error)')
    assert.match(err.hint ?? '', /npm install/)
  })
  await withFolder({ 'app.ts': 'import { x } from \'./nope.js\'\nexport default x\n' }, async (root) => {
    const err = await rejectsWith(bundleSource({ source: 'app.ts', root }), BuildError)
    assert.match(err.message, /^app\.ts:1:19: Could not resolve "\.\/nope\.js"$/)
  })
})

test('warnings come back as file:line:col: text', async () => {
  await withFolder({ 'w.ts': 'const o = { a: 1, a: 2 }\nexport default () => new Response(String(o.a))\n' }, async (root) => {
    const result = await bundleSource({ source: 'w.ts', root })
    assert.equal(result.warnings.length, 1)
    assert.match(result.warnings[0] ?? '', /^w\.ts:1:19: Duplicate key "a" in object literal$/)
  })
})

test('a source outside the manifest\'s folder is refused, also through a symlink', async () => {
  await withFolder({ 'x.ts': TS_HANDLER, 'project/fn.ts': TS_HANDLER, 'project/dir/index.ts': TS_HANDLER }, async (parent) => {
    const root = path.join(parent, 'project')
    const err = await rejectsWith(bundleSource({ source: '../x.ts', root }), SourcePathError)
    assert.equal(err.message, `spec.source "../x.ts" is outside the manifest's folder ${root}`)
    assert.equal(err.field, 'spec.source')
    assert.equal(err.code, 'ROOST_E_SOURCE_PATH')
    await rejectsWith(bundleSource({ source: '../missing.ts', root }), SourcePathError)
    await rejectsWith(bundleSource({ source: path.join(parent, 'x.ts'), root }), SourcePathError)

    await symlink(path.join(parent, 'x.ts'), path.join(root, 'link.ts'))
    const viaLink = await rejectsWith(bundleSource({ source: './link.ts', root }), SourcePathError)
    assert.match(viaLink.message, /"\.\/link\.ts" is outside/)

    await symlink(parent, path.join(root, 'up'))
    await rejectsWith(bundleSource({ source: 'up/x.ts', root }), SourcePathError)

    await mkdir(path.join(root, 'linked-index'))
    await symlink(path.join(parent, 'x.ts'), path.join(root, 'linked-index', 'index.ts'))
    await rejectsWith(bundleSource({ source: 'linked-index', root }), SourcePathError)

    // A symlinked folder that stays inside is fine.
    await symlink(path.join(root, 'dir'), path.join(root, 'alias'))
    assert.equal((await bundleSource({ source: 'alias', root })).entry, 'dir/index.ts')
  })
})

test('an import that leaves the manifest\'s folder is refused, except into node_modules', async () => {
  await withFolder({ 'secret.json': '{"key":"s3cret"}', 'project/fn.ts': 'import s from \'../secret.json\'\nexport default () => new Response(s.key)\n' }, async (parent) => {
    const root = path.join(parent, 'project')
    const err = await rejectsWith(bundleSource({ source: 'fn.ts', root }), SourcePathError)
    assert.equal(err.message, `fn.ts imports "../secret.json", which is outside the manifest's folder ${root}`)
  })
  // Dependencies installed above the manifest's folder (a workspace) still resolve.
  await withFolder({ ...DEPENDENCIES, 'project/fn/deps.ts': USES_DEPENDENCIES }, async (parent) => {
    const result = await bundleSource({ source: 'fn/deps.ts', root: path.join(parent, 'project') })
    assert.match(await callDefault(result), /^HI! /)
  })
})

test('a missing source is a build error saying it does not exist', async () => {
  await withFolder({}, async (root) => {
    const err = await rejectsWith(bundleSource({ source: './nope.ts', root }), BuildError)
    assert.equal(err.message, `spec.source "./nope.ts" does not exist in ${root}`)
    assert.equal(err.field, 'spec.source')
  })
})

test('the same files in two folders give byte-identical bundles and the same hash', async () => {
  const files = { ...DEPENDENCIES, 'fn/deps.ts': USES_DEPENDENCIES, 'fn/package.json': JSON.stringify({ main: 'deps.ts' }) }
  const [a, b] = await Promise.all([
    withFolder(files, async (root) => ({ root, result: await bundleSource({ source: 'fn', root }) })),
    withFolder(files, async (root) => ({ root, result: await bundleSource({ source: 'fn', root }) }))
  ])
  assert.notEqual(a.root, b.root)
  assert.equal(a.result.hash, b.result.hash)
  assert.equal(a.result.code, b.result.code)
  assert.ok(!a.result.code.includes(a.root), 'no absolute path of the machine in the bundle')
  assert.ok(!a.result.code.includes(os.tmpdir()), 'no absolute path of the machine in the bundle')
})

test('inline TypeScript builds and may import node builtins', async () => {
  const code = 'import { createHash } from \'node:crypto\'\nimport os from \'os\'\nconst n: number = 3\nexport default async (req: Request) => new Response(createHash(\'sha256\').update(String(n)).digest(\'hex\') + typeof os.arch())\n'
  const result = await bundleInline({ code, loader: 'ts', name: 'hello' })
  assert.equal(result.entry, 'hello.ts')
  assert.equal(result.hash, contentHash(result.code))
  assert.equal(await callDefault(result), contentHash('3') + 'string')
  const again = await bundleInline({ code, loader: 'ts', name: 'hello' })
  assert.equal(again.hash, result.hash)
})

test('inline JavaScript with a CommonJS export becomes the default export', async () => {
  const result = await bundleInline({ code: 'module.exports = { fetch: async () => new Response(\'inline cjs\') }\n', loader: 'js', name: 'fn.js' })
  assert.equal(result.entry, 'fn.js')
  assert.equal(await callDefault(result), 'inline cjs')
})

test('inline code that imports a package or a file is a build error explaining why', async () => {
  const err = await rejectsWith(bundleInline({ code: 'import pad from \'left-pad\'\nexport default pad\n', loader: 'ts', name: 'hello' }), BuildError)
  assert.match(err.message, /^hello\.ts:1:17: inline sources can't import npm packages/)
  assert.match(err.message, /"left-pad"/)
  assert.equal(err.field, 'spec.source.inline')
  const file = await rejectsWith(bundleInline({ code: 'import data from \'/etc/hostname\'\nexport default data\n', loader: 'js', name: 'x.js' }), BuildError)
  assert.match(file.message, /"\/etc\/hostname"/)
})

test('an inline syntax error is a build error at name:line:col', async () => {
  const err = await rejectsWith(bundleInline({ code: 'export default (\n', loader: 'ts', name: 'hello' }), BuildError)
  assert.match(err.message, /^hello\.ts:2:1: /)
})

test('contentHash is sha256 hex of the UTF-8 bytes', () => {
  assert.equal(contentHash(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855')
  assert.equal(contentHash('é'), contentHash(Buffer.from('é', 'utf8')))
})
