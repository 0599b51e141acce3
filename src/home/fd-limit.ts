import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

/** RLIMIT_NOFILE of a process; `null` stands for unlimited. */
export interface FileLimit {
  soft: number | null
  hard: number | null
}

export interface FileLimitChange {
  before: FileLimit | undefined
  after: FileLimit | undefined
  /** What was done, for `roost up` to print: raised, already at the hard limit, or why not. */
  how: string
}

const PRLIMIT_TIMEOUT_MS = 5_000

/**
 * Raises this process's soft limit of open files to its hard limit, so that
 * many connections and instances do not run out of descriptors early. Node
 * has no setrlimit: util-linux's `prlimit --pid` does it from outside. Never
 * throws: a missing prlimit or a refusal is reported in `how`.
 */
export function raiseFileLimit (pid: number = process.pid): FileLimitChange {
  const before = readFileLimit(pid)
  if (before === undefined) return { before, after: before, how: `not raised: /proc/${pid}/limits cannot be read` }
  const target = before.hard ?? maxOpenFiles()
  if (target === undefined) return { before, after: before, how: 'not raised: the hard limit is unlimited and /proc/sys/fs/nr_open cannot be read' }
  if (before.soft !== null && before.soft >= target) return { before, after: before, how: `already at the hard limit (${target})` }
  const hard = before.hard === null ? 'unlimited' : String(before.hard)
  try {
    execFileSync('prlimit', ['--pid', String(pid), `--nofile=${target}:${hard}`], { stdio: ['ignore', 'ignore', 'pipe'], timeout: PRLIMIT_TIMEOUT_MS })
  } catch (error) {
    const after = readFileLimit(pid)
    return { before, after, how: `not raised: ${describeFailure(error)}` }
  }
  const after = readFileLimit(pid)
  return { before, after, how: `raised the soft limit from ${String(before.soft)} to ${String(after?.soft ?? target)} with prlimit` }
}

/** The open-files line of /proc/<pid>/limits. */
export function readFileLimit (pid: number = process.pid): FileLimit | undefined {
  let text: string
  try {
    text = readFileSync(`/proc/${pid}/limits`, 'utf8')
  } catch {
    return undefined
  }
  const match = /^Max open files\s+(\d+|unlimited)\s+(\d+|unlimited)/m.exec(text)
  if (match === null) return undefined
  return { soft: limitValue(match[1]), hard: limitValue(match[2]) }
}

function limitValue (text: string): number | null {
  return text === 'unlimited' ? null : Number(text)
}

// The kernel's ceiling for RLIMIT_NOFILE when the hard limit reads "unlimited".
function maxOpenFiles (): number | undefined {
  try {
    const value = Number(readFileSync('/proc/sys/fs/nr_open', 'utf8').trim())
    return Number.isInteger(value) && value > 0 ? value : undefined
  } catch {
    return undefined
  }
}

function describeFailure (error: unknown): string {
  const { code, stderr } = error as { code?: string, stderr?: Buffer }
  if (code === 'ENOENT') return 'prlimit is not installed (util-linux)'
  const text = stderr?.toString().trim()
  return text !== undefined && text !== '' ? `prlimit failed: ${text}` : `prlimit failed: ${(error as Error).message}`
}
