// Isolation of instances from the platform and from each other: identities
// per namespace, cgroups, the run directory. Used by the local process driver
// and by whoever materialises bundles for instances.
export { Isolation, type IsolationOptions, type IsolationReport } from './isolation.js'
export { NamespaceIdentities, FIRST_NAMESPACE_UID, type Identity, type NamespaceIdentitiesOptions } from './identities.js'
export { RunDir, runDirFor, platformKey, makeDir } from './run-dir.js'
export { openCgroups, cgroupsAt, type Cgroups, type ProcessCgroup, type ProcessLimits } from './cgroups.js'
export { platformCgroups, cgroupMounts, ownCgroups, processGroupName, instanceGroupName, type CgroupLayout } from './cgroup-paths.js'
export { residentBytes } from './rss.js'
