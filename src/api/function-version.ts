import type { Store, StoredVersion } from '../store/index.js'
import type { FunctionSpec } from './function-schema.js'
import { resolveSecrets, storeSecrets } from './secret-refs.js'
import { versionConfigHash, versionConfigOf, type VersionConfig } from './version-config.js'

export interface FunctionVersion {
  version: StoredVersion<VersionConfig>
  created: boolean
}

/**
 * The version a function's spec and bundle make now: its latest when the config
 * hashes the same, else a new one. Secrets are read here, so it runs inside the
 * caller's store transaction and a version never mixes two states of a secret.
 */
export function versionFor (store: Store, namespace: string, name: string, spec: FunctionSpec, bundleHash: string): FunctionVersion {
  const config = versionConfigOf(spec, bundleHash, resolveSecrets(spec, storeSecrets(store, namespace)))
  const configHash = versionConfigHash(config)
  const latest = store.latestVersion<VersionConfig>(namespace, name)
  const exists = store.getResource('Function', namespace, name) !== undefined
  if (exists && latest !== undefined && latest.configHash === configHash) return { version: latest, created: false }
  return { version: store.insertVersion<VersionConfig>(namespace, name, { bundleHash, configHash, config }), created: true }
}
