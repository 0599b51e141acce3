import { bundleInline, contentHash } from '../bundler/index.js'
import { ValidationError } from '../errors/index.js'
import type { Store, StoredVersion } from '../store/index.js'
import type { FunctionResource, FunctionSpec } from './function-schema.js'
import { checkBrokerSecrets } from './broker-credentials.js'
import { checkAuthReferences } from './caller-auth.js'
import { checkQueuesAreFree } from './queue-ownership.js'
import { checkRouteIsFree } from './route-ownership.js'
import { validateFunction } from './validate.js'
import { versionFor } from './function-version.js'
import type { VersionConfig } from './version-config.js'

export type ApplyOutcome = 'created' | 'configured' | 'unchanged'

export interface ApplyBody {
  manifest: unknown
  /** The bundle the client built from a source path (`roost apply` does this). */
  bundle?: { code: string }
}

export interface ApplyOptions {
  /** Validate, build and check everything, then roll back: nothing is stored, not even the bundle. */
  dryRun?: boolean
}

export interface ApplyResult {
  outcome: ApplyOutcome
  resource: FunctionResource
  /** The version that now exists for this code and configuration. */
  version: StoredVersion<VersionConfig>
  newVersion: boolean
}

/**
 * Create or update a Function from a manifest. The bundle is stored first (a
 * content-addressed file, written atomically); then one transaction writes the
 * resource and, when code or configuration changed, a new immutable Version.
 * An apply that dies half-way leaves the old state or the new, never a mix.
 */
export async function applyFunction (store: Store, path: { namespace: string, name: string }, body: ApplyBody, options: ApplyOptions = {}): Promise<ApplyResult> {
  if (body.manifest === undefined) throw new ValidationError([{ field: 'manifest', message: 'required: the body is { "manifest": <Function>, "bundle"?: { "code": <ES module> } }' }])
  const resource = validateFunction(body.manifest)
  checkPathMatches(resource, path)
  const code = await bundleCode(resource.spec, body.bundle)
  const bundleHash = options.dryRun === true ? contentHash(code) : store.blobs.put(code)
  const { namespace, name } = resource.metadata

  const write = (): ApplyResult => {
    checkRouteIsFree(store, resource.metadata, resource.spec.http.path, resource.spec.http.host)
    checkAuthReferences(store, namespace, resource.spec)
    checkBrokerSecrets(store, namespace, resource.spec)
    checkQueuesAreFree(store, resource)
    const { version, created } = versionFor(store, namespace, name, resource.spec, bundleHash)
    const reuse = !created
    checkTraffic(store, resource)
    const put = store.putResource<FunctionSpec>('Function', namespace, name, { spec: resource.spec, labels: resource.metadata.labels })
    if (!reuse) {
      store.recordEvent({
        namespace,
        kind: 'Function',
        name,
        type: 'Normal',
        reason: 'VersionCreated',
        message: `v${version.number} created (bundle sha256:${bundleHash.slice(0, 12)}, ${code.length} bytes)`
      })
    }
    const outcome: ApplyOutcome = put.created ? 'created' : (put.changed || !reuse) ? 'configured' : 'unchanged'
    return { outcome, resource, version, newVersion: !reuse }
  }
  return options.dryRun === true ? rolledBack(store, write) : store.transaction(write)
}

const ROLLBACK = Symbol('dry run')

/** Runs the very writes of an apply, then undoes them: the answer is exact, the store unchanged. */
function rolledBack<T> (store: Store, write: () => T): T {
  let result: T | undefined
  try {
    store.transaction(() => {
      result = write()
      throw ROLLBACK
    })
  } catch (err) {
    if (err !== ROLLBACK) throw err
  }
  return result as T
}

function checkPathMatches (resource: FunctionResource, path: { namespace: string, name: string }): void {
  const problems = []
  if (resource.metadata.name !== path.name) problems.push({ field: 'metadata.name', message: `"${resource.metadata.name}" does not match the name in the URL ("${path.name}")` })
  if (resource.metadata.namespace !== path.namespace) problems.push({ field: 'metadata.namespace', message: `"${resource.metadata.namespace}" does not match the namespace in the URL ("${path.namespace}")` })
  if (problems.length > 0) throw new ValidationError(problems)
}

async function bundleCode (spec: FunctionSpec, bundle: ApplyBody['bundle']): Promise<string> {
  if (typeof spec.source !== 'string') {
    const built = await bundleInline({ code: spec.source.inline, loader: spec.source.loader, name: 'inline' })
    return built.code
  }
  if (bundle === undefined || typeof bundle.code !== 'string' || bundle.code.length === 0) {
    throw new ValidationError([{
      field: 'spec.source',
      message: `a source path ("${spec.source}") is built where the file is: send the bundle with the manifest (\`roost apply\` does), or use source: { inline: ... }`
    }])
  }
  return bundle.code
}

function checkTraffic (store: Store, resource: FunctionResource): void {
  const traffic = resource.spec.traffic
  if (traffic === undefined) return
  const { namespace, name } = resource.metadata
  const problems = []
  for (const [index, target] of traffic.entries()) {
    if (store.getVersion(namespace, name, target.version) === undefined) {
      problems.push({ field: `spec.traffic[${index}].version`, message: `version ${target.version} of ${name} does not exist` })
    }
  }
  if (problems.length > 0) throw new ValidationError(problems)
}
