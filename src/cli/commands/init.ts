import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command } from '../command.js'
import { parseCommandArgs } from '../args.js'
import { UsageError } from '../../errors/index.js'
import { cliCommand } from '../invocation.js'

const PACKAGE_ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/

export const command: Command = {
  summary: 'Scaffold a function folder that deploys as is.',
  usage: `Usage: roost init NAME [--dir DIR]

Creates DIR (default ./NAME) with NAME.ts, roost.yaml and a package.json that
brings the handler types; then \`roost apply -f NAME/roost.yaml\` deploys it.`,

  async run (argv) {
    const { values, positionals } = parseCommandArgs('init', argv, { dir: { type: 'string' } })
    const name = positionals[0]
    if (name === undefined) throw new UsageError('init needs a function name', { hint: 'e.g. `roost init hello`' })
    if (name.length > 63 || !NAME.test(name)) throw new UsageError(`"${name}" is not a valid function name`, { hint: 'use lower-case letters, digits and "-" (a DNS label, at most 63 characters)' })
    const dir = resolve(values.dir ?? name)
    if (existsSync(dir) && readdirSync(dir).length > 0) throw new UsageError(`${dir} exists and is not empty`, { hint: 'choose another name or pass --dir' })
    mkdirSync(dir, { recursive: true })
    for (const [file, text] of Object.entries(scaffold(name, dir))) writeFileSync(join(dir, file), text)
    const roost = cliCommand()
    const shown = values.dir ?? name
    process.stdout.write(`created ${dir}\n  deploy:  ${roost} apply -f ${join(shown, 'roost.yaml')}\n  call:    ${roost} invoke ${name} --data world\n  types:   (cd ${shown} && npm install) for editor completion\n`)
    return 0
  }
}

/** The files of a new function in `dir`; paths into Roost are relative, so the folder can be committed and moved with its clone. */
export function scaffold (name: string, dir: string): Record<string, string> {
  const schema = relativePath(dir, join(PACKAGE_ROOT, 'schema', 'function.schema.json'))
  return {
    [`${name}.ts`]: `import type { Context } from '@roost/types'

// A Roost function: a web-standard Request in, a Response out.
export default async function (req: Request, ctx: Context): Promise<Response> {
  const who = req.method === 'POST' ? await req.text() : new URL(req.url).searchParams.get('name')
  ctx.log.info('greeting', who ?? 'world')
  return Response.json({ message: \`hello, \${who || 'world'}\`, version: ctx.function.version })
}
`,
    'roost.yaml': `# yaml-language-server: $schema=${schema}
apiVersion: roost.dev/v1
kind: Function
metadata:
  name: ${name}
  labels: { app: ${name} }
spec:
  source: ./${name}.ts
  timeout: 30s
  memory: 128Mi
  concurrency: 100
  scale:
    min: 0
    max: 10
`,
    'package.json': JSON.stringify({
      name,
      version: '0.1.0',
      private: true,
      type: 'module',
      devDependencies: { '@roost/types': `file:${relativePath(dir, join(PACKAGE_ROOT, 'types'))}` }
    }, null, 2) + '\n',
    'tsconfig.json': JSON.stringify({
      compilerOptions: { target: 'ES2022', module: 'ESNext', moduleResolution: 'Bundler', lib: ['ES2023', 'DOM'], strict: true, noEmit: true, skipLibCheck: true }
    }, null, 2) + '\n'
  }
}

function relativePath (from: string, to: string): string {
  const rel = relative(from, to).split(sep).join('/')
  return rel.startsWith('.') ? rel : `./${rel}`
}
