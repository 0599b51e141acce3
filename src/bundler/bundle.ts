import path from 'node:path'
import { build, type BuildOptions, type Message, type Metafile } from 'esbuild'
import { BuildError, SourcePathError } from '../errors/index.js'
import { contentHash } from './content-hash.js'
import { isInside, resolveEntry, toPosix } from './resolve-entry.js'

// Builds a function's source into one self-contained ESM module with esbuild.
// esbuild only parses and prints: no user code (and no plugin) runs here.

export interface BundleResult {
  code: string // one self-contained ESM module, the function's default export preserved
  hash: string // sha256 hex of `code` (content address)
  entry: string // path of the entry file relative to root (for messages)
  warnings: string[] // esbuild warnings formatted `file:line:col: text`
  bytes: number
  inputs: string[] // absolute paths of the files esbuild read (metafile inputs); none for inline code
}

export interface BundleSourceInput {
  source: string // path as written in the manifest
  root: string // absolute folder of the manifest
}

export interface BundleInlineInput {
  code: string
  loader: 'ts' | 'js'
  name: string // shown in messages and stack traces; gets `.ts`/`.js` if it has no extension
}

const MAX_BUNDLE_BYTES = 50 * 1024 * 1024
const BUILD_HINT = 'fix the source and apply again'

// ESM has no `require`, but CJS sources and deps call require('fs') and the
// like, which esbuild leaves as calls to a global `require` for builtins.
// The import is aliased so that it can't clash with the user's names; esbuild
// renames a user's own top-level `require` since the name is reserved in ESM output.
const REQUIRE_BANNER = "import { createRequire as __roostCreateRequire } from 'node:module'; const require = __roostCreateRequire(import.meta.url);"

const COMMON_OPTIONS: BuildOptions = {
  bundle: true,
  platform: 'node', // keeps `node:*` and bare builtins external
  target: 'node20',
  format: 'esm',
  // node reads only `main`; `module` is the fallback for packages without one.
  mainFields: ['main', 'module'],
  // Stack traces point at the user's file:line when the runtime uses
  // --enable-source-maps; the sources themselves stay out of the bundle.
  sourcemap: 'inline',
  sourcesContent: false,
  legalComments: 'none',
  banner: { js: REQUIRE_BANNER },
  logLevel: 'silent',
  write: false
}

export async function bundleSource (input: BundleSourceInput): Promise<BundleResult> {
  const entry = await resolveEntry(input.source, input.root)
  // Paths in the output (comments, source map) are relative to absWorkingDir,
  // which keeps the hash independent of where the folder lives.
  const result = await runEsbuild({
    ...COMMON_OPTIONS,
    entryPoints: [entry.file],
    absWorkingDir: entry.root,
    metafile: true
  }, 'spec.source', missingPackageHint)
  assertInputsInside(result.metafile, entry.root, input.root)
  const inputs = Object.keys(result.metafile?.inputs ?? {}).map((file) => path.resolve(entry.root, file))
  return toResult(result.code, entry.relative, result.warnings, 'spec.source', inputs)
}

export async function bundleInline (input: BundleInlineInput): Promise<BundleResult> {
  if (Buffer.byteLength(input.code) > MAX_BUNDLE_BYTES) {
    throw new BuildError('the inline source is larger than 50 MiB', { field: 'spec.source.inline', hint: BUILD_HINT })
  }
  const sourcefile = path.extname(input.name) === '' ? `${input.name}.${input.loader}` : input.name
  const result = await runEsbuild({
    ...COMMON_OPTIONS,
    // Without a resolveDir esbuild resolves nothing but node builtins: inline
    // code can't reach files of the machine it is built on.
    stdin: { contents: input.code, loader: input.loader, sourcefile },
    // Don't pick up a tsconfig.json from the platform's working directory.
    tsconfigRaw: {}
  }, 'spec.source.inline', inlineImportHint)
  return toResult(result.code, sourcefile, result.warnings, 'spec.source.inline', [])
}

interface EsbuildOutput {
  code: string
  warnings: Message[]
  metafile: Metafile | undefined
}

// Rewrites the first error (e.g. an unresolved import) into a message and hint.
type ErrorRewrite = (error: Message) => { text: string, hint: string } | undefined

async function runEsbuild (options: BuildOptions, field: string, rewrite: ErrorRewrite): Promise<EsbuildOutput> {
  try {
    const result = await build(options)
    const output = result.outputFiles?.[0]
    if (output === undefined) throw new BuildError('esbuild produced no output', { field, hint: BUILD_HINT })
    return { code: output.text, warnings: result.warnings, metafile: result.metafile }
  } catch (err) {
    if (err instanceof BuildError) throw err
    throw toBuildError(err, field, rewrite)
  }
}

function toBuildError (err: unknown, field: string, rewrite: ErrorRewrite): BuildError {
  const errors = esbuildErrorsOf(err)
  const first = errors[0]
  if (first === undefined) {
    const text = err instanceof Error ? err.message : String(err)
    return new BuildError(`esbuild failed: ${text}`, { field, hint: BUILD_HINT, cause: err })
  }
  const rewritten = rewrite(first)
  const more = errors.length - 1
  const suffix = more === 0 ? '' : ` (and ${more} more error${more === 1 ? '' : 's'})`
  const message = formatMessage({ ...first, text: rewritten?.text ?? first.text }) + suffix
  return new BuildError(message, { field, hint: rewritten?.hint ?? BUILD_HINT, cause: err })
}

// esbuild rejects with a BuildFailure: an Error carrying `errors: Message[]`.
function esbuildErrorsOf (err: unknown): Message[] {
  if (typeof err !== 'object' || err === null || !('errors' in err)) return []
  const errors = err.errors
  return Array.isArray(errors) ? errors as Message[] : []
}

// `file:line:col: text`, the column 1-based (esbuild's is 0-based) as editors expect.
function formatMessage (message: Message): string {
  const at = message.location
  if (at === null) return message.text
  return `${at.file}:${at.line}:${at.column + 1}: ${message.text}`
}

const UNRESOLVED = /^Could not resolve "(.*)"$/

function missingPackageHint (error: Message): { text: string, hint: string } | undefined {
  const specifier = UNRESOLVED.exec(error.text)?.[1]
  if (specifier === undefined || isRelative(specifier)) return undefined
  return {
    text: error.text,
    hint: `install "${specifier}" (npm install beside the source) or fix the import, then apply again`
  }
}

function inlineImportHint (error: Message): { text: string, hint: string } | undefined {
  const specifier = UNRESOLVED.exec(error.text)?.[1]
  if (specifier === undefined) return undefined
  return {
    text: `inline sources can't import npm packages or files, only node builtins: "${specifier}"`,
    hint: 'put the function in a file beside its package.json and node_modules and point spec.source at it'
  }
}

function isRelative (specifier: string): boolean {
  return specifier.startsWith('./') || specifier.startsWith('../') || specifier.startsWith('/')
}

// An import may leave the manifest's folder only into a node_modules folder
// (dependencies may be installed above it); anything else would copy files of
// the build machine into the bundle.
function assertInputsInside (metafile: Metafile | undefined, realRoot: string, root: string): void {
  if (metafile === undefined) return
  for (const input of Object.keys(metafile.inputs)) {
    const file = path.resolve(realRoot, input)
    if (isInside(realRoot, file) || input.split('/').includes('node_modules')) continue
    const importer = importerOf(metafile, input)
    const what = importer === undefined ? `"${input}"` : `${importer.file} imports "${importer.specifier}", which`
    throw new SourcePathError(`${what} is outside the manifest's folder ${root}`, {
      field: 'spec.source',
      hint: 'keep the function\'s files inside the folder of the manifest (dependencies in node_modules)'
    })
  }
}

function importerOf (metafile: Metafile, input: string): { file: string, specifier: string } | undefined {
  for (const [file, info] of Object.entries(metafile.inputs)) {
    const found = info.imports.find((imported) => imported.path === input)
    if (found !== undefined) return { file, specifier: found.original ?? found.path }
  }
  return undefined
}

function toResult (code: string, entry: string, warnings: Message[], field: string, inputs: string[]): BundleResult {
  const bytes = Buffer.byteLength(code)
  if (bytes > MAX_BUNDLE_BYTES) {
    throw new BuildError(`the bundle of ${entry} is ${(bytes / 1024 / 1024).toFixed(1)} MiB, more than the limit of 50 MiB`, {
      field,
      hint: 'drop large dependencies or assets from the function, then apply again'
    })
  }
  return { code, hash: contentHash(code), entry: toPosix(entry), warnings: warnings.map(formatMessage), bytes, inputs }
}
