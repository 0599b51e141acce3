import { createHash } from 'node:crypto'
import type { FunctionSpec } from './function-schema.js'
import { resolveLimits } from './limits.js'
import type { ResolvedSecrets, SecretRefs } from './secret-refs.js'

/**
 * What a Version freezes: the bundle and the settings that change how its
 * instances run. Scale, routes and traffic stay on the Function and change
 * without a new version, as Knative keeps them off the revision.
 */
export interface VersionConfig {
  bundleHash: string
  /** The literal variables. */
  env: Record<string, string>
  timeoutMs: number
  memoryMiB: number
  concurrency: number
  /** Present when variables come from Secrets: the references and the secrets' resourceVersions read. */
  secretRefs?: SecretRefs
  /** The values those references had: sealed at rest, given to instances, never shown by the API. */
  secretEnv?: Record<string, string>
}

export function versionConfigOf (spec: FunctionSpec, bundleHash: string, secrets?: ResolvedSecrets): VersionConfig {
  const limits = resolveLimits(spec)
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(spec.env)) if (typeof value === 'string') env[key] = value
  const config: VersionConfig = { bundleHash, env, timeoutMs: limits.timeoutMs, memoryMiB: limits.memoryMiB, concurrency: limits.concurrency }
  if (secrets !== undefined) {
    config.secretRefs = secrets.refs
    config.secretEnv = secrets.values
  }
  return config
}

/**
 * A stable hash of a version config: equal configs hash equal whatever their key order.
 * Secrets count by reference and resourceVersion, not by value, so a changed secret
 * makes a new version without its value being hashed.
 */
export function versionConfigHash (config: VersionConfig): string {
  const env = Object.keys(config.env).sort().map((key) => [key, config.env[key]])
  const parts: unknown[] = [config.bundleHash, env, config.timeoutMs, config.memoryMiB, config.concurrency]
  // appended only when present: a config without secrets hashes as it did before secrets existed
  if (config.secretRefs !== undefined) parts.push(sortedRefs(config.secretRefs))
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex')
}

/** The environment an instance of the version gets. */
export function instanceEnv (config: VersionConfig): Record<string, string> {
  return config.secretEnv === undefined ? config.env : { ...config.secretEnv, ...config.env }
}

/** A version config as the API shows it: the secret references, never their values. */
export function publicVersionConfig (config: VersionConfig): Omit<VersionConfig, 'secretEnv'> {
  const { secretEnv: _values, ...shown } = config
  return shown
}

function sortedRefs (refs: SecretRefs): unknown {
  return [
    Object.keys(refs.env).sort().map((key) => [key, refs.env[key].name, refs.env[key].key]),
    refs.envFrom,
    Object.keys(refs.versions).sort().map((name) => [name, refs.versions[name]])
  ]
}

/** The traffic a function routes: its own `spec.traffic`, or everything to the latest version. */
export function effectiveTraffic (spec: FunctionSpec, latestVersion: number): Array<{ version: number, percent: number, tag?: string }> {
  if (spec.traffic !== undefined && spec.traffic.length > 0) return spec.traffic
  return [{ version: latestVersion, percent: 100 }]
}
