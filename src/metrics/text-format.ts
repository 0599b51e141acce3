// The Prometheus text exposition format (version 0.0.4), what both sides of
// /metrics share. No imports, so that the gateway's worker can use it without
// loading prom-client.

export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

/** Escapes a label value: backslash, double quote and line feed. */
export function escapeLabelValue (value: string): string {
  return /[\\"\n]/.test(value) ? value.replace(/[\\"\n]/g, escapeChar) : value
}

function escapeChar (c: string): string {
  return c === '\n' ? '\\n' : `\\${c}`
}

/** A sample value as the text format writes it. */
export function formatValue (value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Infinity) return '+Inf'
  if (value === -Infinity) return '-Inf'
  return String(value)
}

/**
 * Joins expositions into one, each part ending with a line feed; empty parts
 * are skipped. The parts must not share metric names (a family is written once).
 */
export function joinExpositions (...texts: string[]): string {
  let out = ''
  for (const text of texts) {
    if (text.length === 0) continue
    out += text.endsWith('\n') ? text : `${text}\n`
  }
  return out
}
