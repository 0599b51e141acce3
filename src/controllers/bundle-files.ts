import { existsSync, linkSync, copyFileSync, mkdirSync } from 'node:fs'
import { join } from 'node:path'
import type { BlobStore } from '../store/index.js'

/**
 * Instances import bundles as ES modules, which node recognises by the `.mjs`
 * extension; blobs are extension-less. Each bundle gets a hard link (a copy
 * where links are not possible) named `<hash>.mjs`, made once.
 */
export class BundleFiles {
  constructor (private readonly blobs: BlobStore, private readonly dir: string) {
    mkdirSync(dir, { recursive: true })
  }

  pathOf (hash: string): string {
    const file = join(this.dir, `${hash}.mjs`)
    if (!existsSync(file)) {
      try {
        linkSync(this.blobs.path(hash), file)
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') copyFileSync(this.blobs.path(hash), file)
      }
    }
    return file
  }
}
