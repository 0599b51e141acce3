import { chmodSync, chownSync, copyFileSync, linkSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { makeDir, type Identity } from '../isolation/index.js'
import type { BlobStore } from '../store/index.js'

export interface BundleFilesOptions {
  /** `<runDir>/bundles` of the platform's run dir (isolation/run-dir.ts): outside $ROOST_HOME, which instances cannot enter. */
  dir: string
  /** The identity a namespace's instances run as; null when instances run as the platform's own uid. */
  identityOf: ((namespace: string) => Identity) | null
}

/**
 * Instances import bundles as ES modules, which node recognises by the `.mjs`
 * extension; blobs are extension-less. Each bundle gets a copy per namespace,
 * `<dir>/<gid>/<hash>.mjs`, in a folder only that namespace's group can
 * enter (0750 root:gid, the file 0640 root:gid): a function can read its own
 * namespace's bundles and no other's, and write none.
 */
export class BundleFiles {
  private readonly made = new Set<string>()

  constructor (private readonly blobs: BlobStore, private readonly options: BundleFilesOptions) {
    makeDir(options.dir, 0o711)
  }

  pathOf (hash: string, namespace: string): string {
    const identity = this.options.identityOf?.(namespace) ?? null
    const group = identity === null ? 'own' : String(identity.gid)
    const file = join(this.options.dir, group, `${hash}.mjs`)
    if (this.made.has(file)) return file
    const dir = makeDir(join(this.options.dir, group), identity === null ? 0o700 : 0o750, identity === null ? undefined : { uid: 0, gid: identity.gid })
    // A copy, not a link: a link would share the blob's inode, mode and owner with the home.
    const partial = join(dir, `.${hash}.${process.pid}.tmp`)
    copyFileSync(this.blobs.path(hash), partial)
    if (identity !== null) chownSync(partial, 0, identity.gid)
    chmodSync(partial, identity === null ? 0o600 : 0o640)
    try {
      linkSync(partial, file)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
    } finally {
      rmSync(partial, { force: true })
    }
    this.made.add(file)
    return file
  }
}
