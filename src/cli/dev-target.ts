import { existsSync, statSync } from 'node:fs'
import { basename, dirname, extname, join, resolve } from 'node:path'
import { parseDuration, parseMemory, type FunctionSource, type FunctionSpec } from '../api/index.js'
import { UsageError } from '../errors/index.js'
import { readManifests } from './manifest-files.js'

/** The one function `roost dev` runs, as read from its manifest (or a bare source file). */
export interface DevTarget {
  name: string
  namespace: string
  source: FunctionSource
  root: string // the folder a path source is relative to
  env: Record<string, string>
  timeoutMs: number
  memoryMiB: number
  manifest: string | undefined // the manifest file, watched too; undefined for a bare source file
  where: string // for messages: `roost.yaml:3`, or the source file
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json'])
const MANIFEST_NAMES = ['roost.yaml', 'roost.yml']
const NOT_A_NAME = /[^a-z0-9-]+/g

/** DIR (its roost.yaml), FILE.yaml, or a source file run with the defaults of a manifest. */
export function findTarget (arg: string): DevTarget {
  const path = resolve(arg)
  if (!existsSync(path)) throw new UsageError(`${arg} does not exist`, { hint: 'pass a folder with a roost.yaml, a manifest file or a source file' })
  if (statSync(path).isDirectory()) {
    const file = MANIFEST_NAMES.map((name) => join(path, name)).find((candidate) => existsSync(candidate))
    if (file === undefined) throw new UsageError(`${arg} holds no roost.yaml`, { hint: 'run `roost init NAME` to make one, or pass the source file: `roost dev handler.ts`' })
    return fromManifest(file)
  }
  return MANIFEST_EXTENSIONS.has(extname(path)) ? fromManifest(path) : fromSource(path)
}

function fromManifest (file: string): DevTarget {
  // Rules beside the function are the platform's to apply; roost dev runs the function alone.
  const manifests = readManifests(file).filter((m) => m.type === 'function')
  if (manifests.length !== 1) {
    throw new UsageError(`${file} holds ${manifests.length} functions; roost dev runs one`, { hint: 'pass a manifest with one Function document' })
  }
  const { resource, root, where } = manifests[0]
  return {
    name: resource.metadata.name,
    namespace: resource.metadata.namespace,
    source: resource.spec.source,
    root,
    env: localEnv(resource.spec.env, file),
    timeoutMs: parseDuration(resource.spec.timeout),
    memoryMiB: parseMemory(resource.spec.memory),
    manifest: file,
    where
  }
}

/**
 * Secrets live on a platform, which roost dev does not talk to: an env value
 * taken from a secret comes from roost dev's own environment instead.
 */
function localEnv (env: FunctionSpec['env'], file: string): Record<string, string> {
  const local: Record<string, string> = {}
  for (const [name, value] of Object.entries(env)) {
    if (typeof value === 'string') {
      local[name] = value
      continue
    }
    const given = process.env[name]
    if (given === undefined) {
      throw new UsageError(`${file}: spec.env.${name} comes from secret ${value.valueFrom.secretKeyRef.name}, which roost dev cannot read`, { hint: `set it for the local run: ${name}=… roost dev` })
    }
    local[name] = given
  }
  return local
}

function fromSource (file: string): DevTarget {
  const stem = basename(file, extname(file)).toLowerCase().replace(NOT_A_NAME, '-').replace(/^-+|-+$/g, '')
  return {
    name: stem === '' ? 'function' : stem.slice(0, 63),
    namespace: 'default',
    source: `./${basename(file)}`,
    root: dirname(file),
    env: {},
    timeoutMs: parseDuration('30s'),
    memoryMiB: parseMemory('128Mi'),
    manifest: undefined,
    where: file
  }
}
