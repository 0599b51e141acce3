import { stringify } from 'yaml'
import { UsageError } from '../errors/index.js'
import { parseJsonPath, type JsonPathTemplate } from './jsonpath.js'

export type OutputFormat = 'table' | 'json' | 'yaml'

export function outputFormat (value: string | undefined): OutputFormat {
  if (value === undefined || value === 'table' || value === 'wide') return 'table'
  if (value === 'json' || value === 'yaml') return value
  throw new UsageError(`unknown output format "${value}"`, { hint: 'use -o json, -o yaml, or leave -o out for a table' })
}

/** What `get -o` asks for, as kubectl spells it. */
export type GetFormat =
  | { kind: 'table' | 'wide' | 'name' | 'json' | 'yaml' }
  | { kind: 'jsonpath', template: JsonPathTemplate }

export function getFormat (value: string | undefined): GetFormat {
  if (value === undefined || value === 'table') return { kind: 'table' }
  if (value === 'wide' || value === 'name' || value === 'json' || value === 'yaml') return { kind: value }
  const jsonpath = /^jsonpath=(.*)$/s.exec(value)
  if (jsonpath !== null) {
    if (jsonpath[1] === '') throw new UsageError('-o jsonpath= needs a template', { hint: 'e.g. -o jsonpath=\'{.items[*].metadata.name}\'' })
    return { kind: 'jsonpath', template: parseJsonPath(jsonpath[1]) }
  }
  throw new UsageError(`unknown output format "${value}"`, { hint: 'use -o wide, name, json, yaml or jsonpath=TEMPLATE, or leave -o out for a table' })
}

/** Prints data as JSON or YAML for machines. */
export function printData (format: 'json' | 'yaml', data: unknown): void {
  process.stdout.write(format === 'json' ? JSON.stringify(data, null, 2) + '\n' : stringify(data))
}

/** Columns padded to their widest cell, as kubectl prints them. */
export function formatTable (header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => (row[i] ?? '').length)))
  const line = (cells: string[]): string => cells.map((cell, i) => i === cells.length - 1 ? cell : cell.padEnd(widths[i] + 3)).join('').trimEnd()
  return [line(header), ...rows.map(line)].join('\n') + '\n'
}

export function printTable (header: string[], rows: string[][], empty: string): void {
  process.stdout.write(rows.length === 0 ? `${empty}\n` : formatTable(header, rows))
}

/** `3s`, `5m`, `2h`, `4d`: the age of something created at `time`. */
export function age (time: string | number, now = Date.now()): string {
  const seconds = Math.max(0, Math.floor((now - new Date(time).getTime()) / 1000))
  if (seconds < 120) return `${seconds}s`
  const minutes = Math.floor(seconds / 60)
  if (minutes < 120) return `${minutes}m`
  const hours = Math.floor(minutes / 60)
  if (hours < 48) return `${hours}h`
  return `${Math.floor(hours / 24)}d`
}
