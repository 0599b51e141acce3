import { readFileSync } from 'node:fs'

// Where no cgroup bounds an instance, its memory is measured instead: the
// resident memory of its main process that is its own (resident less shared:
// the node binary's pages are shared with every other process and, under a
// cgroup, charged to whoever read them first), from /proc, in pages of 4 KiB
// on the machines Roost runs on.
const PAGE_BYTES = 4096

/** Resident, unshared bytes of `pid`, or null when it is gone or /proc is not there. */
export function residentBytes (pid: number): number | null {
  try {
    const fields = readFileSync(`/proc/${pid}/statm`, 'utf8').split(' ')
    const pages = Number(fields[1]) - Number(fields[2])
    return Number.isFinite(pages) ? pages * PAGE_BYTES : null
  } catch {
    return null
  }
}
