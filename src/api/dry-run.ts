import { ValidationError } from '../errors/index.js'
import type { ApplyResult } from './apply-function.js'

/** `?dryRun=All` (as Kubernetes spells it) or `?dryRun=true`: validate and build, store nothing. */
export function dryRunQuery (value: string | undefined): boolean {
  if (value === undefined || value === '') return false
  if (value === 'All' || value === 'true') return true
  throw new ValidationError([{ field: 'dryRun', message: `expected All (or true), got "${value}"` }])
}

/** What an apply would do: its outcome, the version it would make or reuse, and the resource as it would be stored. */
export function dryRunAnswer (result: ApplyResult): unknown {
  const { metadata, spec } = result.resource
  return {
    dryRun: true,
    result: result.outcome,
    version: result.version.number,
    newVersion: result.newVersion,
    bundleHash: result.version.bundleHash,
    manifest: { apiVersion: 'roost.dev/v1', kind: 'Function', metadata: { name: metadata.name, namespace: metadata.namespace, labels: metadata.labels }, spec }
  }
}
