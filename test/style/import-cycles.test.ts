// The house rule "no import cycles", checked on the TypeScript sources (type-only
// and dynamic imports count: they tie the files together as much as the others).
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import ts from 'typescript'
import { REPO_ROOT } from '../helpers/platform.js'

const SRC = join(REPO_ROOT, 'src')

/**
 * Cycles tolerated while a change under way breaks them (none now). Each must
 * still exist: once it is broken, its entry goes, so it cannot come back unnoticed.
 */
const KNOWN_CYCLES = new Set<string>([])

function sourceFiles (dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sourceFiles(path)
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') ? [path] : []
  })
}

/** Relative imports of a file (static, type-only, re-exports and dynamic), as source paths. */
export function importsOf (file: string, text: string): string[] {
  const info = ts.preProcessFile(text, true, true)
  return info.importedFiles
    .map((ref) => ref.fileName)
    .filter((name) => name.startsWith('.'))
    .map((name) => resolve(dirname(file), name).replace(/\.js$/, '.ts'))
}

/** Every elementary cycle found by a depth-first walk, each rotated to start at its smallest file. */
export function findCycles (graph: Map<string, string[]>): string[][] {
  const cycles = new Map<string, string[]>()
  const state = new Map<string, 'open' | 'done'>()
  const stack: string[] = []
  const visit = (node: string): void => {
    state.set(node, 'open')
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 'open') {
        const cycle = stack.slice(stack.indexOf(next))
        const start = cycle.indexOf([...cycle].sort()[0])
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)]
        cycles.set(rotated.join(' -> '), rotated)
      } else if (!state.has(next)) {
        visit(next)
      }
    }
    stack.pop()
    state.set(node, 'done')
  }
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node)
  return [...cycles.values()]
}

function describeCycle (cycle: string[]): string {
  return [...cycle, cycle[0]].map((file) => relative(SRC, file)).join(' -> ')
}

test('the cycle finder sees a cycle through a type-only and a dynamic import', () => {
  const files = {
    '/x/main.ts': "import type { Command } from './command.js'\nconst load = () => import('./commands/a.js')",
    '/x/commands/a.ts': "import type { Command } from '../main.js'\nexport const a = 1",
    '/x/command.ts': 'export interface Command { run (): void }'
  }
  const graph = new Map(Object.entries(files).map(([file, text]) => [file, importsOf(file, text)]))
  assert.deepEqual(findCycles(graph), [['/x/commands/a.ts', '/x/main.ts']])
  graph.set('/x/commands/a.ts', importsOf('/x/commands/a.ts', "import type { Command } from '../command.js'"))
  assert.deepEqual(findCycles(graph), [])
})

test('src has no import cycles', () => {
  const graph = new Map<string, string[]>()
  for (const file of sourceFiles(SRC)) graph.set(file, importsOf(file, readFileSync(file, 'utf8')))
  const found = findCycles(graph).map(describeCycle)
  const unexpected = found.filter((cycle) => !KNOWN_CYCLES.has(cycle))
  assert.deepEqual(unexpected, [], `import cycles:\n${unexpected.join('\n')}`)
  const gone = [...KNOWN_CYCLES].filter((cycle) => !found.includes(cycle))
  assert.deepEqual(gone, [], `these known cycles are broken now: remove them from KNOWN_CYCLES\n${gone.join('\n')}`)
})
