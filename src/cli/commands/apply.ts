import type { Command } from '../main.js'
import { parseCommandArgs } from '../args.js'
import { connect } from '../config.js'
import { bundleFor, readManifests, type LoadedManifest } from '../manifest-files.js'
import { outputFormat, printData } from '../output.js'
import { UsageError } from '../../errors/index.js'
import type { ApiClient } from '../client.js'

interface ApplyResponse { result: string, version: number, newVersion: boolean }

export const command: Command = {
  summary: 'Build and deploy functions from YAML manifests.',
  usage: `Usage: roost apply -f FILE|DIR|- [-o json|yaml]

Each Function document is validated, its source built with esbuild (TypeScript,
ESM or CJS, npm dependencies from the package.json beside it), and sent to the
platform. A change of code or configuration makes a new immutable version that
takes the traffic; an unchanged manifest makes none.

Flags:
  -f, --filename   manifest file, folder of manifests, or - for standard input (repeatable)
  -o, --output     json or yaml: print the results for machines`,

  async run (argv) {
    const { values } = parseCommandArgs('apply', argv, {
      filename: { type: 'string', short: 'f', multiple: true },
      output: { type: 'string', short: 'o' }
    })
    const targets = values.filename ?? []
    if (targets.length === 0) throw new UsageError('apply needs -f FILE, DIR or -', { hint: 'e.g. `roost apply -f roost.yaml`' })
    const format = outputFormat(values.output)
    // Everything is read, validated and built before the platform is contacted.
    const prepared = await prepareFiles(targets)
    const results = await sendPrepared(connect(), prepared, format === 'table' ? (line) => process.stdout.write(line + '\n') : () => {})
    if (format !== 'table') printData(format, results)
    return 0
  }
}

interface Prepared {
  manifests: LoadedManifest[]
  bundles: Array<{ code: string } | undefined>
}

/** Validates and builds everything first, then applies document by document. */
export async function applyFiles (client: ApiClient, targets: string[], print: (line: string) => void): Promise<Array<{ function: string, namespace: string } & ApplyResponse>> {
  return await sendPrepared(client, await prepareFiles(targets), print)
}

async function prepareFiles (targets: string[]): Promise<Prepared> {
  const manifests = targets.flatMap((target) => readManifests(target))
  const bundles = await Promise.all(manifests.map(async (manifest) => await bundleFor(manifest)))
  return { manifests, bundles }
}

async function sendPrepared (client: ApiClient, { manifests, bundles }: Prepared, print: (line: string) => void): Promise<Array<{ function: string, namespace: string } & ApplyResponse>> {
  const results = []
  for (const [index, manifest] of manifests.entries()) {
    const { name, namespace } = manifest.resource.metadata
    const response = await client.put<ApplyResponse>(
      `/apis/roost.dev/v1/namespaces/${namespace}/functions/${name}`,
      { manifest: manifest.doc, bundle: bundles[index] }
    )
    print(`function/${name} ${response.result}${response.newVersion ? ` (v${response.version})` : ''}`)
    results.push({ function: name, namespace, ...response })
  }
  return results
}
