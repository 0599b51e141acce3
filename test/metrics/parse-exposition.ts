// A strict reader of the Prometheus text format for the tests: every line must
// be a comment or a sample, label values are unescaped.

export interface Sample {
  name: string
  labels: Record<string, string>
  value: number
}

const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/y

export function parseExposition (text: string): Sample[] {
  const samples: Sample[] = []
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const match = SAMPLE.exec(line)
    if (match === null) throw new Error(`not a sample line: ${JSON.stringify(line)}`)
    const labels: Record<string, string> = {}
    const body = match[2] ?? ''
    LABEL.lastIndex = 0
    while (LABEL.lastIndex < body.length) {
      const start = LABEL.lastIndex
      const label = LABEL.exec(body)
      if (label === null) throw new Error(`bad labels at ${start} of ${JSON.stringify(body)}`)
      labels[label[1]] = label[2].replace(/\\(.)/g, (_, c: string) => c === 'n' ? '\n' : c)
    }
    const value = match[3] === '+Inf' ? Infinity : match[3] === '-Inf' ? -Infinity : Number(match[3])
    samples.push({ name: match[1], labels, value })
  }
  return samples
}

/** The samples named `name` whose labels include `labels`. */
export function find (samples: Sample[], name: string, labels: Record<string, string> = {}): Sample[] {
  return samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v))
}

/** The value of the one sample named `name` with `labels`; throws when there is not exactly one. */
export function value (samples: Sample[], name: string, labels: Record<string, string> = {}): number {
  const found = find(samples, name, labels)
  if (found.length !== 1) throw new Error(`${found.length} samples ${name}${JSON.stringify(labels)}`)
  return found[0].value
}
