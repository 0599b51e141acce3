// Tests leave no process behind, even when they fail: a platform a test starts
// runs in a process group of its own, and when the test process ends (normally,
// on an uncaught error, or on SIGTERM/SIGINT/SIGHUP from the runner) every such
// group and every child of the test process still running is killed. Graceful
// stops are checked too: TestPlatform.stop() fails when something stays behind.
import { readdirSync, readFileSync } from 'node:fs'

export interface ProcessEntry {
  pid: number
  ppid: number
  pgid: number
  args: string
}

const groups = new Set<number>()
let installed = false

/** Every process of the machine, from /proc (Linux). */
export function processes (): ProcessEntry[] {
  const entries: ProcessEntry[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
      if (fields[0] === 'Z') continue
      const args = readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim()
      entries.push({ pid: Number(name), ppid: Number(fields[1]), pgid: Number(fields[2]), args })
    } catch {
      // It exited while we read.
    }
  }
  return entries
}

/** A process and every live process below it (instances run in sessions of their own, so groups do not hold them). */
export function familyOf (pid: number): ProcessEntry[] {
  const all = processes()
  const family = all.filter((p) => p.pid === pid)
  for (let i = 0; i < family.length; i++) for (const p of all) if (p.ppid === family[i].pid) family.push(p)
  return family
}

/** Which of these pids still run (zombies do not). */
export function stillRunning (pids: number[]): ProcessEntry[] {
  const wanted = new Set(pids)
  return processes().filter((p) => wanted.has(p.pid))
}

/** The live processes of a process group. */
export function groupMembers (pgid: number): ProcessEntry[] {
  return processes().filter((p) => p.pgid === pgid)
}

export function killGroup (pgid: number): void {
  try {
    process.kill(-pgid, 'SIGKILL')
  } catch {
    // ESRCH: nothing left in it.
  }
}

/** Kills this group when the test process ends, whatever the outcome of the tests. */
export function killGroupAtExit (pgid: number): void {
  groups.add(pgid)
  install()
}

/** Kills every registered group and every child of this process; returns what was still running. */
export function killEverythingLeft (): ProcessEntry[] {
  const all = processes()
  const left = all.filter((p) => groups.has(p.pgid) || p.ppid === process.pid)
  for (const pgid of groups) killGroup(pgid)
  for (const entry of left) {
    try { process.kill(entry.pid, 'SIGKILL') } catch {}
  }
  return left
}

function install (): void {
  if (installed) return
  installed = true
  process.once('exit', () => { killEverythingLeft() })
  for (const signal of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killEverythingLeft()
      process.kill(process.pid, signal)
    })
  }
}

// Installed on import, so that even children not started through a helper die with the test.
install()
