import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, extname, join, relative, resolve } from 'node:path'
import { locateField, parseManifests, ruleResourceOf, validateManifest, type FunctionResource, type ManifestDocument, type RuleManifest, type ValidatedManifest } from '../api/index.js'
import { bundleSource } from '../bundler/index.js'
import { referencesOf, STRATEGY_KINDS } from '../governance/index.js'
import { UsageError, ValidationError, isRoostError } from '../errors/index.js'

interface LoadedDocument {
  /** Where the document came from, for messages: `path/roost.yaml:12`. */
  where: string
  /** Where one of its fields is: `path/roost.yaml:14:7` (the document's line when the field is not in it). */
  whereField: (field: string) => string
  /** The folder source paths are relative to. */
  root: string
  doc: unknown
}

export interface LoadedFunction extends LoadedDocument {
  type: 'function'
  resource: FunctionResource
}

/** An OpenSergo rule, applied beside the functions of the same files. */
export interface LoadedRule extends LoadedDocument {
  type: 'rule'
  resource: RuleManifest
}

export type LoadedManifest = LoadedFunction | LoadedRule

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json'])

/**
 * Reads and validates every document of FILE, of each manifest in DIR, or of
 * standard input (`-`): Functions and OpenSergo rules. Nothing is sent
 * anywhere: a bad document anywhere stops the whole apply before it changes anything.
 */
export function readManifests (target: string): LoadedManifest[] {
  const sources = target === '-' ? [{ file: '<stdin>', root: process.cwd(), text: readFileSync(0, 'utf8') }] : manifestFiles(target)
  const manifests: LoadedManifest[] = []
  for (const source of sources) {
    for (const document of parseManifests(source.text, displayPath(source.file))) {
      const file = displayPath(source.file)
      const where = `${file}:${document.line}`
      const whereField = (field: string): string => {
        const { line, column } = locateField(document, field)
        return `${file}:${line}:${column}`
      }
      const validatedDoc = validated(file, document)
      manifests.push(validatedDoc.type === 'function'
        ? { type: 'function', where, whereField, root: source.root, doc: document.doc, resource: validatedDoc.resource }
        : { type: 'rule', where, whereField, root: source.root, doc: document.doc, resource: validatedDoc.resource })
    }
  }
  if (manifests.length === 0) throw new UsageError(`${target} holds no manifest`, { hint: 'a manifest is YAML with apiVersion: roost.dev/v1 and kind: Function, or an OpenSergo rule' })
  return manifests
}

/** Builds a function's source path into one ES module; inline sources are built by the API, and rules have none. */
export async function bundleFor (manifest: LoadedManifest): Promise<{ code: string } | undefined> {
  if (manifest.type !== 'function') return undefined
  const source = manifest.resource.spec.source
  if (typeof source !== 'string') return undefined
  const built = await located(manifest.where, async () => await bundleSource({ source, root: manifest.root }))
  return { code: built.code }
}

function manifestFiles (target: string): Array<{ file: string, root: string, text: string }> {
  const path = resolve(target)
  let stat
  try {
    stat = statSync(path)
  } catch {
    throw new UsageError(`${target} does not exist`, { hint: 'pass -f with a manifest file, a folder of them, or - for standard input' })
  }
  const files = stat.isDirectory()
    ? readdirSync(path).filter((name) => MANIFEST_EXTENSIONS.has(extname(name))).sort().map((name) => join(path, name))
    : [path]
  return files.map((file) => ({ file, root: dirname(file), text: readFileSync(file, 'utf8') }))
}

function displayPath (file: string): string {
  if (file.startsWith('<')) return file
  const rel = relative(process.cwd(), file)
  return rel.startsWith('..') ? file : rel
}

/** Validates a document of any kind; a failure names the file, line and column of its first bad field. */
function validated (file: string, document: ManifestDocument): ValidatedManifest {
  try {
    return validateManifest(document.doc)
  } catch (err) {
    const field = err instanceof ValidationError ? err.errors[0]?.field : isRoostError(err) ? err.field : undefined
    if (field === undefined) throw prefix(`${file}:${document.line}`, err)
    const { line, column } = locateField(document, field)
    throw prefix(`${file}:${line}:${column}`, err)
  }
}

/** Prefixes a failure with the document it is about: the line of the field it names when `whereField` can find it. */
export function located<T> (where: string, fn: () => T, whereField?: (field: string) => string): T {
  try {
    const result = fn()
    if (result instanceof Promise) return result.catch((err: unknown) => { throw prefix(where, err, whereField) }) as T
    return result
  } catch (err) {
    throw prefix(where, err, whereField)
  }
}

function prefix (where: string, err: unknown, whereField?: (field: string) => string): unknown {
  if (!isRoostError(err)) return err
  const field = err instanceof ValidationError ? err.errors[0]?.field : err.field
  const at = field === undefined || whereField === undefined ? where : whereField(field)
  err.message = `${at}: ${err.message}`
  return err
}

/**
 * `-n NS` as kubectl treats it: documents without metadata.namespace go to NS;
 * one that names another namespace is an error rather than silently moved.
 */
export function inNamespace (manifests: LoadedManifest[], namespace: string | undefined): LoadedManifest[] {
  if (namespace === undefined) {
    followReferringRules(manifests)
    return manifests
  }
  for (const manifest of manifests) {
    const metadata = (manifest.doc as { metadata?: { namespace?: unknown } }).metadata
    const declared = metadata?.namespace
    if (declared !== undefined && declared !== namespace) {
      throw new UsageError(`${manifest.where}: the manifest says namespace ${String(declared)}, but -n says ${namespace}`, { hint: 'drop -n, or remove metadata.namespace from the manifest' })
    }
    if (metadata !== undefined) metadata.namespace = namespace
    manifest.resource.metadata.namespace = namespace
  }
  return manifests
}

/**
 * A strategy or fallback that says no namespace goes to the namespace of the
 * rule that names it in the same files: OpenSergo's own example puts only the
 * FaultToleranceRule in a namespace, its parts being meant to live with it.
 * One named from rules of two namespaces stays where -n or default puts it
 * (and crossNamespaceWarnings says so). With -n, -n decides for every document.
 */
function followReferringRules (manifests: LoadedManifest[]): void {
  const rules = manifests.filter((m): m is LoadedRule => m.type === 'rule')
  const homes = new Map<LoadedRule, Set<string>>()
  for (const rule of rules) {
    const namespace = declaredNamespace(rule)
    if (namespace === undefined) continue
    for (const ref of referencesOf(ruleResourceOf(rule.resource))) {
      for (const target of rules) {
        if (target === rule || declaredNamespace(target) !== undefined || target.resource.metadata.name !== ref.name) continue
        const kind = target.resource.kind
        if (ref.kind === undefined ? !STRATEGY_KINDS.includes(kind as never) : kind !== ref.kind) continue
        const found = homes.get(target)
        if (found === undefined) homes.set(target, new Set([namespace]))
        else found.add(namespace)
      }
    }
  }
  for (const [target, namespaces] of homes) {
    if (namespaces.size !== 1) continue
    const [namespace] = namespaces
    const metadata = (target.doc as { metadata?: { namespace?: string } }).metadata
    if (metadata !== undefined) metadata.namespace = namespace
    target.resource.metadata.namespace = namespace
  }
}

/** The namespace a document itself names, if it names one. */
function declaredNamespace (manifest: LoadedManifest): string | undefined {
  const declared = (manifest.doc as { metadata?: { namespace?: unknown } }).metadata?.namespace
  return typeof declared === 'string' ? declared : undefined
}
