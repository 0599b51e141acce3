import { chmodSync, closeSync, mkdirSync, openSync, statSync } from 'node:fs'

// Files and folders of the platform are its user's alone. mkdir and open take
// the umask off the mode they are given; chmod afterwards does not, and also
// repairs what an older Roost created with wider modes.

export function privateDirectory (dir: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 })
  restrict(dir, 0o700)
}

// Creates the file empty if it is missing; either way it ends up 0600.
export function createPrivateFile (file: string): void {
  closeSync(openSync(file, 'a', 0o600))
  restrict(file, 0o600)
}

// 0600 for each file that exists; missing ones are skipped.
export function restrictFiles (files: readonly string[]): void {
  for (const file of files) {
    try {
      restrict(file, 0o600)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error
    }
  }
}

function restrict (path: string, mode: number): void {
  if ((statSync(path).mode & 0o777) !== mode) chmodSync(path, mode)
}
