// `npm run bench`: runs every suite (or those named with --suite), prints
// their tables, and with --write rewrites each one's section of BENCHMARKS.md.
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { brokers } from './brokers.js'
import { coldStart } from './cold-start.js'
import { elasticScaling } from './elastic-scaling.js'
import { events } from './events.js'
import { gatewayThroughput } from './gateway-throughput.js'
import { governance } from './governance.js'
import { chooseLoadGenerator } from './load.js'
import { runtimeFrames } from './runtime-frames.js'
import { BenchFailure, type Suite, type SuiteOptions } from './suite.js'

const SUITES: Suite[] = [gatewayThroughput, runtimeFrames, coldStart, elasticScaling, governance, events, brokers]

const USAGE = `usage: npm run bench -- [options]

  --duration <s>   measured seconds per target and round (default 8)
  --quick          3 s per target and round
  --warmup <s>     warm-up seconds before each measurement (default 2)
  --runs <n>       rounds over all targets, interleaved; medians are reported (default 3)
  --suite <name>   run only this suite (${SUITES.map((s) => s.name).join(', ')}); may repeat
  --load <tool>    wrk | node: force the load generator (default: wrk if installed)
  --write          rewrite the suites' sections of BENCHMARKS.md with the figures
  --help`

// bench/run.ts compiles to dist/bench/run.js: the repository is two folders up.
const REPO = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const BENCHMARKS = join(REPO, 'BENCHMARKS.md')

const HEADER = `# Benchmarks

The latest figures of \`npm run bench\` (code in \`bench/\`). The machine is
shared and noisy, so every suite measures its baselines in the same run,
interleaved with what it measures, and reports ratios against them: read the
ratios, not the absolute numbers.

\`npm run bench\` only prints. \`npm run bench -- --write\` also rewrites here
the section of each suite it ran and leaves the other sections alone; text
between the \`notes\` comment markers of a section (written by hand) is kept.
Options: \`--duration <s>\` (default 8), \`--quick\` (3 s), \`--warmup <s>\`
(default 2), \`--runs <n>\` (default 3), \`--suite <name>\`, \`--load wrk|node\`.
`

async function main (): Promise<number> {
  const { values } = parseArgs({
    options: {
      duration: { type: 'string' },
      quick: { type: 'boolean', default: false },
      warmup: { type: 'string' },
      runs: { type: 'string' },
      suite: { type: 'string', multiple: true },
      load: { type: 'string' },
      write: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false }
    },
    strict: true
  })
  if (values.help) {
    console.log(USAGE)
    return 0
  }
  const number = (name: string, text: string | undefined, fallback: number, min: number): number => {
    if (text === undefined) return fallback
    const value = Number(text)
    if (!Number.isFinite(value) || value < min) throw new UsageError(`--${name} must be a number ≥ ${min}, not ${text}`)
    return value
  }
  if (values.load !== undefined && values.load !== 'wrk' && values.load !== 'node') throw new UsageError(`--load must be wrk or node, not ${values.load}`)
  const suites = values.suite === undefined ? SUITES : values.suite.map((name) => {
    const suite = SUITES.find((s) => s.name === name)
    if (suite === undefined) throw new UsageError(`no suite ${name}; the suites are ${SUITES.map((s) => s.name).join(', ')}`)
    return suite
  })
  const args = process.argv.slice(2)
  const options: SuiteOptions = {
    durationSec: Math.round(number('duration', values.duration, values.quick ? 3 : 8, 1)),
    warmupSec: Math.round(number('warmup', values.warmup, 2, 1)),
    runs: Math.round(number('runs', values.runs, 3, 1)),
    load: chooseLoadGenerator(values.load as 'wrk' | 'node' | undefined),
    command: args.length === 0 ? 'npm run bench' : `npm run bench -- ${args.join(' ')}`,
    log: (line) => process.stderr.write(`[bench] ${line}\n`)
  }
  if (options.load.tool === 'node') options.log('wrk is not installed: using the in-process load generator (undici); its figures are not comparable with wrk\'s')
  else options.log(`load generator: ${options.load.description}`)

  let failed = false
  for (const suite of suites) {
    options.log(`suite ${suite.name}`)
    let markdown: string
    try {
      const report = await suite.run(options)
      console.log(`\n== ${suite.name} ==\n${report.text}\n`)
      markdown = report.markdown
    } catch (err) {
      failed = true
      const kind = err instanceof BenchFailure ? 'BENCH FAILED' : 'BENCH ERROR'
      console.error(`\n!!!!! ${kind}: ${suite.name}: ${err instanceof Error ? (err instanceof BenchFailure ? err.message : err.stack) : String(err)}\n`)
      continue
    }
    if (values.write) {
      writeSection(suite.name, markdown)
      options.log(`wrote the ${suite.name} section of ${BENCHMARKS}`)
    }
  }
  if (failed && values.write) console.error('the sections of the failed suites were not written')
  return failed ? 1 : 0
}

class UsageError extends Error {}

/** Replaces (or appends) the suite's section, keeping the notes written by hand in it. */
function writeSection (name: string, markdown: string): void {
  const start = `<!-- suite:${name} -->`
  const end = `<!-- /suite:${name} -->`
  let file = existsSync(BENCHMARKS) ? readFileSync(BENCHMARKS, 'utf8') : HEADER
  const from = file.indexOf(start)
  const to = file.indexOf(end)
  let notes = '\n'
  if (from !== -1 && to > from) {
    const old = file.slice(from, to)
    const kept = /<!-- notes -->([\s\S]*?)<!-- \/notes -->/.exec(old)
    if (kept !== null) notes = kept[1]
  }
  const section = `${start}\n## ${name}\n\n${markdown.trimEnd()}\n\n<!-- notes -->${notes}<!-- /notes -->\n${end}`
  if (from !== -1 && to > from) file = file.slice(0, from) + section + file.slice(to + end.length)
  else file = `${file.trimEnd()}\n\n${section}\n`
  writeFileSync(BENCHMARKS, file)
}

process.once('SIGINT', () => {
  console.error('\ninterrupted')
  // 'exit' handlers stop nginx; instances leave when the platform's IPC closes.
  process.exit(130)
})

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) console.error(`${err.message}\n\n${USAGE}`)
    else console.error(err)
    process.exit(2)
  }
)
