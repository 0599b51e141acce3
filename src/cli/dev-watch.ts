import { watch, type FSWatcher } from 'node:fs'
import { basename, dirname } from 'node:path'

// Watches an exact set of files through their folders: editors that save by
// writing a new file and renaming it over the old one end a watch on the file itself.

const SETTLE_MS = 40

export class FileSetWatcher {
  private readonly folders = new Map<string, { watcher: FSWatcher, names: Set<string> }>()
  private timer: NodeJS.Timeout | null = null

  constructor (private readonly onChange: () => void) {}

  /** Watches exactly these files from now on (a folder that can't be watched is skipped). */
  set (files: Iterable<string>): void {
    const wanted = new Map<string, Set<string>>()
    for (const file of files) {
      const folder = dirname(file)
      const names = wanted.get(folder) ?? new Set<string>()
      names.add(basename(file))
      wanted.set(folder, names)
    }
    for (const [folder, entry] of this.folders) {
      if (!wanted.has(folder)) {
        entry.watcher.close()
        this.folders.delete(folder)
      }
    }
    for (const [folder, names] of wanted) {
      const entry = this.folders.get(folder)
      if (entry !== undefined) entry.names = names
      else this.open(folder, names)
    }
  }

  close (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = null
    for (const entry of this.folders.values()) entry.watcher.close()
    this.folders.clear()
  }

  private open (folder: string, names: Set<string>): void {
    let watcher: FSWatcher
    try {
      watcher = watch(folder, { persistent: true })
    } catch {
      return
    }
    const entry = { watcher, names }
    watcher.on('change', (_event, name) => {
      if (name === null || entry.names.has(name.toString())) this.changed()
    })
    // A folder that goes away stops being watched; the next build watches what it then reads.
    watcher.on('error', () => {
      watcher.close()
      if (this.folders.get(folder) === entry) this.folders.delete(folder)
    })
    this.folders.set(folder, entry)
  }

  // One save is several events (truncate, write, rename): they settle into one rebuild.
  private changed (): void {
    if (this.timer !== null) clearTimeout(this.timer)
    this.timer = setTimeout(() => {
      this.timer = null
      this.onChange()
    }, SETTLE_MS)
  }
}
