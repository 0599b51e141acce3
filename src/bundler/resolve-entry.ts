import { readFile, realpath, stat } from 'node:fs/promises'
import path from 'node:path'
import { BuildError, RoostError, SourcePathError } from '../errors/index.js'

// Turns `spec.source` (a file or folder, relative to the manifest's folder)
// into the one file esbuild starts from, refusing anything that leaves the
// manifest's folder, symlinks included.

const FIELD = 'spec.source'
const INDEX_FILES = ['index.ts', 'index.mts', 'index.js', 'index.mjs', 'index.cjs', 'handler.ts']
const MAIN_EXTENSIONS = ['.ts', '.mts', '.js', '.mjs', '.cjs']
// Export conditions we accept for exports["."]: we bundle ESM for node.
const EXPORT_CONDITIONS = ['import', 'node', 'default']
const MAX_PACKAGE_JSON_BYTES = 1024 * 1024

export interface ResolvedEntry {
  root: string // real path of the manifest's folder (esbuild's working dir)
  file: string // real absolute path of the entry file
  relative: string // file relative to root, '/'-separated, for messages
}

export async function resolveEntry (source: string, root: string): Promise<ResolvedEntry> {
  if (!path.isAbsolute(root)) throw new RoostError(`the manifest's folder must be an absolute path, got "${root}"`)
  const realRoot = await realRootOf(root)
  const wanted = path.resolve(root, source)
  // Checked before touching the file so that "../x" is refused even when it does not exist.
  if (!isInside(path.resolve(root), wanted)) throw outsideError(source, root)
  const real = await realpathOfSource(wanted, source, root)
  if (!isInside(realRoot, real)) throw outsideError(source, root)
  // The entry of a folder (index.ts, package.json main) may itself be a symlink out.
  const file = await realpath(await entryFileOf(real, source))
  if (!isInside(realRoot, file)) throw outsideError(source, root)
  return { root: realRoot, file, relative: toPosix(path.relative(realRoot, file)) }
}

export function isInside (parent: string, child: string): boolean {
  const rel = path.relative(parent, child)
  return rel === '' || (rel !== '..' && !rel.startsWith('..' + path.sep) && !path.isAbsolute(rel))
}

export function toPosix (p: string): string {
  return p.split(path.sep).join('/')
}

function outsideError (source: string, root: string): SourcePathError {
  return new SourcePathError(`spec.source "${source}" is outside the manifest's folder ${root}`, {
    field: FIELD,
    hint: 'point spec.source at a file or folder inside the folder of the manifest'
  })
}

async function realRootOf (root: string): Promise<string> {
  try {
    return await realpath(root)
  } catch (err) {
    throw new BuildError(`the manifest's folder ${root} does not exist or can't be read`, { field: FIELD, cause: err })
  }
}

async function realpathOfSource (wanted: string, source: string, root: string): Promise<string> {
  try {
    return await realpath(wanted)
  } catch (err) {
    const code = errorCode(err)
    const why = code === 'ENOENT' || code === 'ENOTDIR'
      ? 'does not exist'
      : code === 'ELOOP' ? 'is a symlink loop' : `can't be read (${code ?? 'unknown error'})`
    throw new BuildError(`spec.source "${source}" ${why} in ${root}`, {
      field: FIELD,
      hint: 'spec.source is a file or folder relative to the manifest; check the path',
      cause: err
    })
  }
}

async function entryFileOf (real: string, source: string): Promise<string> {
  const info = await stat(real)
  if (info.isFile()) return real
  if (!info.isDirectory()) {
    throw new BuildError(`spec.source "${source}" is neither a file nor a folder`, { field: FIELD })
  }
  const fromPackage = await packageEntryOf(real, source)
  if (fromPackage !== undefined) return fromPackage
  const index = await firstFile(real, INDEX_FILES)
  if (index !== undefined) return index
  throw new BuildError(
    `spec.source "${source}" is a folder without an entry: looked for package.json main, module or exports["."], then ${INDEX_FILES.join(', ')}`,
    { field: FIELD, hint: 'add one of those files, or point spec.source at the entry file itself' }
  )
}

async function packageEntryOf (dir: string, source: string): Promise<string | undefined> {
  const pkg = await readPackageJson(dir, source)
  if (pkg === undefined) return undefined
  const target = entryFieldOf(pkg)
  if (target === undefined) return undefined
  const file = await resolveTarget(path.resolve(dir, target.value))
  if (file === undefined) {
    throw new BuildError(`spec.source "${source}": package.json ${target.field} "${target.value}" does not exist`, {
      field: FIELD,
      hint: `fix ${target.field} in package.json, or point spec.source at the entry file`
    })
  }
  return file
}

async function readPackageJson (dir: string, source: string): Promise<unknown> {
  const file = path.join(dir, 'package.json')
  const info = await stat(file).catch(() => undefined)
  if (info === undefined || !info.isFile()) return undefined
  if (info.size > MAX_PACKAGE_JSON_BYTES) {
    throw new BuildError(`spec.source "${source}": package.json is larger than 1 MiB`, { field: FIELD })
  }
  try {
    return JSON.parse(await readFile(file, 'utf8'))
  } catch (err) {
    throw new BuildError(`spec.source "${source}": package.json is not valid JSON: ${messageOf(err)}`, { field: FIELD, cause: err })
  }
}

interface EntryField {
  field: string
  value: string
}

// exports wins over module and main, as it does for node and esbuild.
function entryFieldOf (pkg: unknown): EntryField | undefined {
  if (!isRecord(pkg)) return undefined
  const fromExports = dotExportOf(pkg.exports)
  if (fromExports !== undefined) return { field: 'exports["."]', value: fromExports }
  for (const field of ['module', 'main']) {
    const value = pkg[field]
    if (typeof value === 'string' && value !== '') return { field, value }
  }
  return undefined
}

function dotExportOf (exports: unknown): string | undefined {
  if (typeof exports === 'string' || Array.isArray(exports)) return pickCondition(exports)
  if (!isRecord(exports)) return undefined
  // `exports` is either a map of subpaths ("." , "./x") or directly the conditions of ".".
  const isSubpathMap = Object.keys(exports).some((key) => key.startsWith('.'))
  return pickCondition(isSubpathMap ? exports['.'] : exports)
}

function pickCondition (value: unknown): string | undefined {
  if (typeof value === 'string') return value
  if (Array.isArray(value)) {
    for (const item of value) {
      const picked = pickCondition(item)
      if (picked !== undefined) return picked
    }
    return undefined
  }
  if (!isRecord(value)) return undefined
  for (const condition of EXPORT_CONDITIONS) {
    const picked = pickCondition(value[condition])
    if (picked !== undefined) return picked
  }
  return undefined
}

// A main of "lib/index" means lib/index.js (or .ts) or the folder lib/ with an index file.
async function resolveTarget (target: string): Promise<string | undefined> {
  if (await isFile(target)) return target
  const withExtension = await firstFile(path.dirname(target), MAIN_EXTENSIONS.map((ext) => path.basename(target) + ext))
  if (withExtension !== undefined) return withExtension
  return await firstFile(target, INDEX_FILES)
}

async function firstFile (dir: string, names: string[]): Promise<string | undefined> {
  for (const name of names) {
    const file = path.join(dir, name)
    if (await isFile(file)) return file
  }
  return undefined
}

async function isFile (file: string): Promise<boolean> {
  const info = await stat(file).catch(() => undefined)
  return info?.isFile() === true
}

function isRecord (value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

function errorCode (err: unknown): string | undefined {
  return isRecord(err) && typeof err.code === 'string' ? err.code : undefined
}

function messageOf (err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
