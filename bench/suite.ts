// What a benchmark suite gives bench/run.ts, and small helpers the suites share.
import type { LoadGenerator } from './load.js'

export interface SuiteOptions {
  /** Measured seconds per target and run. */
  durationSec: number
  /** Warm-up seconds before each measurement. */
  warmupSec: number
  /** How many times the whole round-robin over the targets is repeated. */
  runs: number
  load: LoadGenerator
  /** The command line that ran the bench, for the record. */
  command: string
  /** Progress lines for the console (stderr). */
  log: (line: string) => void
}

export interface SuiteReport {
  /** Plain text for the console. */
  text: string
  /** The body of the suite's section in BENCHMARKS.md, without its `## name` heading. */
  markdown: string
}

export interface Suite {
  /** The section name in BENCHMARKS.md and the value of `--suite`. */
  name: string
  title: string
  run (options: SuiteOptions): Promise<SuiteReport>
}

/** A bench result that must not be recorded: an error response, a failed check. */
export class BenchFailure extends Error {
  override readonly name = 'BenchFailure'
}

export function median (values: number[]): number {
  if (values.length === 0) return Number.NaN
  const sorted = [...values].sort((a, b) => a - b)
  const middle = Math.floor(sorted.length / 2)
  return sorted.length % 2 === 1 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2
}

export function formatRps (value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : '-'
}

export function formatMs (value: number): string {
  if (!Number.isFinite(value)) return '-'
  return value < 10 ? `${value.toFixed(2)} ms` : `${value.toFixed(1)} ms`
}

export function formatRatio (value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}×` : '-'
}

/** A plain-text table with right-aligned columns after the first. */
export function textTable (header: string[], rows: string[][]): string {
  const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (row: string[]): string => row.map((cell, i) => i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i])).join('  ').trimEnd()
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n')
}

export function markdownTable (header: string[], rows: string[][]): string {
  const line = (row: string[]): string => `| ${row.join(' | ')} |`
  return [line(header), line(header.map((_, i) => i === 0 ? '---' : '---:')), ...rows.map(line)].join('\n')
}
