// A unified diff (as `diff -u` prints it) of two texts, line by line, for
// `roost diff`. Manifests are small: a plain LCS table is fast enough.

const CONTEXT = 3

type Op = { kind: ' ' | '-' | '+', line: string }

export function unifiedDiff (before: string, after: string, labels: { from: string, to: string }): string {
  const ops = diffLines(splitLines(before), splitLines(after))
  if (ops.every((op) => op.kind === ' ')) return ''
  return `--- ${labels.from}\n+++ ${labels.to}\n` + hunks(ops).join('')
}

function splitLines (text: string): string[] {
  if (text === '') return []
  const lines = text.split('\n')
  if (lines[lines.length - 1] === '') lines.pop()
  return lines
}

function diffLines (a: string[], b: string[]): Op[] {
  // lcs[i][j]: the length of the longest common subsequence of a[i..] and b[j..].
  const lcs = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0))
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1])
  }
  const ops: Op[] = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) {
      ops.push({ kind: ' ', line: a[i++] })
      j++
    } else if (j < b.length && (i === a.length || lcs[i][j + 1] >= lcs[i + 1][j])) {
      ops.push({ kind: '+', line: b[j++] })
    } else {
      ops.push({ kind: '-', line: a[i++] })
    }
  }
  // Within a run of changes, removals first, as diff -u prints them.
  return reorderRuns(ops)
}

function reorderRuns (ops: Op[]): Op[] {
  const out: Op[] = []
  let run: Op[] = []
  const flush = (): void => {
    out.push(...run.filter((op) => op.kind === '-'), ...run.filter((op) => op.kind === '+'))
    run = []
  }
  for (const op of ops) {
    if (op.kind === ' ') {
      flush()
      out.push(op)
    } else {
      run.push(op)
    }
  }
  flush()
  return out
}

function hunks (ops: Op[]): string[] {
  const changed = ops.map((op, index) => op.kind === ' ' ? -1 : index).filter((index) => index >= 0)
  const result: string[] = []
  let start = 0
  while (start < changed.length) {
    // A hunk spans changes whose gaps are at most twice the context.
    let end = start
    while (end + 1 < changed.length && changed[end + 1] - changed[end] <= 2 * CONTEXT + 1) end++
    const from = Math.max(0, changed[start] - CONTEXT)
    const to = Math.min(ops.length, changed[end] + CONTEXT + 1)
    result.push(hunk(ops, from, to))
    start = end + 1
  }
  return result
}

function hunk (ops: Op[], from: number, to: number): string {
  let oldStart = 1
  let newStart = 1
  for (const op of ops.slice(0, from)) {
    if (op.kind !== '+') oldStart++
    if (op.kind !== '-') newStart++
  }
  const body = ops.slice(from, to)
  const oldCount = body.filter((op) => op.kind !== '+').length
  const newCount = body.filter((op) => op.kind !== '-').length
  const range = (start: number, count: number): string => `${count === 0 ? start - 1 : start}${count === 1 ? '' : `,${count}`}`
  return `@@ -${range(oldStart, oldCount)} +${range(newStart, newCount)} @@\n` + body.map((op) => `${op.kind}${op.line}\n`).join('')
}
