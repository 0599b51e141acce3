import { createHash } from 'node:crypto'
import type { FunctionSpec } from './function-schema.js'
import { resolveLimits } from './limits.js'

/**
 * What a Version freezes: the bundle and the settings that change how its
 * instances run. Scale, routes and traffic stay on the Function and change
 * without a new version, as Knative keeps them off the revision.
 */
export interface VersionConfig {
  bundleHash: string
  env: Record<string, string>
  timeoutMs: number
  memoryMiB: number
  concurrency: number
}

export function versionConfigOf (spec: FunctionSpec, bundleHash: string): VersionConfig {
  const limits = resolveLimits(spec)
  return { bundleHash, env: spec.env, timeoutMs: limits.timeoutMs, memoryMiB: limits.memoryMiB, concurrency: limits.concurrency }
}

/** A stable hash of a version config: equal configs hash equal whatever their key order. */
export function versionConfigHash (config: VersionConfig): string {
  const env = Object.keys(config.env).sort().map((key) => [key, config.env[key]])
  const canonical = JSON.stringify([config.bundleHash, env, config.timeoutMs, config.memoryMiB, config.concurrency])
  return createHash('sha256').update(canonical).digest('hex')
}

/** The traffic a function routes: its own `spec.traffic`, or everything to the latest version. */
export function effectiveTraffic (spec: FunctionSpec, latestVersion: number): Array<{ version: number, percent: number, tag?: string }> {
  if (spec.traffic !== undefined && spec.traffic.length > 0) return spec.traffic
  return [{ version: latestVersion, percent: 100 }]
}
