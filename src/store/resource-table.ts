import { randomUUID } from 'node:crypto'
import type Database from 'better-sqlite3'
import { ConflictError, NotFoundError } from '../errors/index.js'
import { canonicalJson } from './canonical-json.js'
import type { EnvSealer } from './env-sealing.js'
import type { Sequence } from './sequence.js'
import type { PutOptions, PutResult, ResourceBody, StoredResource, WatchEventType } from './types.js'
import type { WatchFeed } from './watch-feed.js'

interface ResourceRow {
  kind: string
  namespace: string
  name: string
  uid: string
  resource_version: number
  generation: number
  labels: string
  spec: string
  status: string | null
  created_at: string
  updated_at: string
}

type Key = [kind: string, namespace: string, name: string]

const COLUMNS = 'kind, namespace, name, uid, resource_version, generation, labels, spec, status, created_at, updated_at'

export const RESOURCE_SQL = {
  get: `SELECT ${COLUMNS} FROM resources WHERE kind = ? AND namespace = ? AND name = ?`,
  listKind: `SELECT ${COLUMNS} FROM resources WHERE kind = ? ORDER BY namespace, name`,
  listNamespace: `SELECT ${COLUMNS} FROM resources WHERE kind = ? AND namespace = ? ORDER BY name`,
  insert: `INSERT INTO resources (${COLUMNS})
    VALUES (@kind, @namespace, @name, @uid, @resource_version, @generation, @labels, @spec, @status, @created_at, @updated_at)`,
  updateBody: `UPDATE resources SET labels = ?, spec = ?, resource_version = ?, generation = generation + 1, updated_at = ?
    WHERE kind = ? AND namespace = ? AND name = ?`,
  updateStatus: `UPDATE resources SET status = ?, resource_version = ?, updated_at = ?
    WHERE kind = ? AND namespace = ? AND name = ?`,
  delete: `DELETE FROM resources WHERE kind = ? AND namespace = ? AND name = ?`,
  all: `SELECT ${COLUMNS} FROM resources`,
  // a change of storage form only (sealing): neither resourceVersion nor generation moves
  rewriteSpec: 'UPDATE resources SET spec = ? WHERE kind = ? AND namespace = ? AND name = ?'
} as const

// Resources of every kind, with optimistic concurrency on resourceVersion.
// Every write method expects to run inside a store transaction. Env values of
// a spec are sealed on the way in and opened on the way out (EnvSealer).
export class ResourceTable {
  private readonly getStatement: Database.Statement<Key, ResourceRow>
  private readonly listKindStatement: Database.Statement<[string], ResourceRow>
  private readonly listNamespaceStatement: Database.Statement<[string, string], ResourceRow>
  private readonly insertStatement: Database.Statement<[ResourceRow], unknown>
  private readonly updateBodyStatement: Database.Statement<[string, string, number, string, ...Key], unknown>
  private readonly updateStatusStatement: Database.Statement<[string | null, number, string, ...Key], unknown>
  private readonly deleteStatement: Database.Statement<Key, unknown>
  private readonly allStatement: Database.Statement<[], ResourceRow>
  private readonly rewriteSpecStatement: Database.Statement<[string, ...Key], unknown>

  constructor (db: Database.Database, private readonly sequence: Sequence, private readonly feed: WatchFeed, private readonly sealer: EnvSealer) {
    this.getStatement = db.prepare<Key, ResourceRow>(RESOURCE_SQL.get)
    this.listKindStatement = db.prepare<[string], ResourceRow>(RESOURCE_SQL.listKind)
    this.listNamespaceStatement = db.prepare<[string, string], ResourceRow>(RESOURCE_SQL.listNamespace)
    this.insertStatement = db.prepare<[ResourceRow], unknown>(RESOURCE_SQL.insert)
    this.updateBodyStatement = db.prepare<[string, string, number, string, ...Key], unknown>(RESOURCE_SQL.updateBody)
    this.updateStatusStatement = db.prepare<[string | null, number, string, ...Key], unknown>(RESOURCE_SQL.updateStatus)
    this.deleteStatement = db.prepare<Key, unknown>(RESOURCE_SQL.delete)
    this.allStatement = db.prepare<[], ResourceRow>(RESOURCE_SQL.all)
    this.rewriteSpecStatement = db.prepare<[string, ...Key], unknown>(RESOURCE_SQL.rewriteSpec)
  }

  get<S, T> (kind: string, namespace: string, name: string): StoredResource<S, T> | undefined {
    const row = this.getStatement.get(kind, namespace, name)
    return row === undefined ? undefined : this.toResource<S, T>(row)
  }

  list<S, T> (kind: string, namespace?: string): Array<StoredResource<S, T>> {
    const rows = namespace === undefined
      ? this.listKindStatement.all(kind)
      : this.listNamespaceStatement.all(kind, namespace)
    return rows.map((row) => this.toResource<S, T>(row))
  }

  put<S> (kind: string, namespace: string, name: string, body: ResourceBody<S>, options: PutOptions = {}): PutResult<S> {
    const key: Key = [kind, namespace, name]
    const row = this.getStatement.get(...key)
    checkExpected(key, row, options.expectedResourceVersion)
    const labels = canonicalJson(body.labels ?? {}) // an absent labels map is an empty one
    // sealed values differ on every write (a fresh IV): "changed" compares the plain specs
    if (row !== undefined && this.plainSpec(row) === canonicalJson(body.spec) && row.labels === labels) {
      return { resource: this.toResource<S, unknown>(row), created: false, changed: false }
    }
    const spec = canonicalJson(this.sealer.seal({ kind, namespace, name }, body.spec))
    const resourceVersion = this.sequence.next()
    const now = new Date().toISOString()
    if (row === undefined) {
      this.insertStatement.run({
        kind,
        namespace,
        name,
        uid: randomUUID(),
        resource_version: resourceVersion,
        generation: 1,
        labels,
        spec,
        status: null,
        created_at: now,
        updated_at: now
      })
    } else {
      this.updateBodyStatement.run(labels, spec, resourceVersion, now, ...key)
    }
    const stored = this.emitCurrent(key, row === undefined ? 'ADDED' : 'MODIFIED')
    return { resource: this.toResource<S, unknown>(stored), created: row === undefined, changed: true }
  }

  // Status is the platform's observation, not the user's intent: it moves
  // resourceVersion (watchers must see it) but never generation. Writing the
  // status already stored changes nothing, so a level-triggered loop that
  // reports the same status every pass does not wake itself up again.
  putStatus<T> (kind: string, namespace: string, name: string, status: T, options: PutOptions = {}): StoredResource<unknown, T> {
    const key: Key = [kind, namespace, name]
    const row = this.getStatement.get(...key)
    if (row === undefined) throw notFound(key)
    checkExpected(key, row, options.expectedResourceVersion)
    const text = status === undefined ? null : canonicalJson(status)
    if (row.status === text) return this.toResource<unknown, T>(row)
    this.updateStatusStatement.run(text, this.sequence.next(), new Date().toISOString(), ...key)
    return this.toResource<unknown, T>(this.emitCurrent(key, 'MODIFIED'))
  }

  delete (kind: string, namespace: string, name: string, options: PutOptions = {}): boolean {
    const key: Key = [kind, namespace, name]
    const row = this.getStatement.get(...key)
    checkExpected(key, row, options.expectedResourceVersion)
    if (row === undefined) return false
    this.deleteStatement.run(...key)
    // The deletion is a write like any other: it takes the next resourceVersion,
    // and the object in the DELETED event is the last state stamped with it.
    const resourceVersion = this.sequence.next()
    this.feed.push({
      type: 'DELETED',
      kind,
      namespace,
      name,
      resourceVersion,
      object: { ...this.toResource(row), resourceVersion }
    })
    return true
  }

  // Reads back what was just written, tells the watchers, and returns the row.
  private emitCurrent (key: Key, type: WatchEventType): ResourceRow {
    const row = this.getStatement.get(...key) as ResourceRow
    this.feed.push({
      type,
      kind: row.kind,
      namespace: row.namespace,
      name: row.name,
      resourceVersion: row.resource_version,
      object: this.toResource(row) // a copy of its own: the event object is frozen
    })
    return row
  }

  // Seals the plain env values a database from before sealing still holds.
  // Returns how many resources were rewritten.
  sealPlainRows (): number {
    let sealed = 0
    for (const row of this.allStatement.all()) {
      const spec = JSON.parse(row.spec) as unknown
      if (!this.sealer.hasPlain(spec)) continue
      this.rewriteSpecStatement.run(canonicalJson(this.sealer.seal(placeOf(row), spec)), row.kind, row.namespace, row.name)
      sealed++
    }
    return sealed
  }

  private plainSpec (row: ResourceRow): string {
    return canonicalJson(this.sealer.open(placeOf(row), JSON.parse(row.spec)))
  }

  private toResource<S, T> (row: ResourceRow): StoredResource<S, T> {
    return {
      kind: row.kind,
      namespace: row.namespace,
      name: row.name,
      uid: row.uid,
      resourceVersion: row.resource_version,
      generation: row.generation,
      labels: JSON.parse(row.labels) as Record<string, string>,
      spec: this.sealer.open(placeOf(row), JSON.parse(row.spec)) as S,
      status: row.status === null ? undefined : JSON.parse(row.status) as T,
      createdAt: row.created_at,
      updatedAt: row.updated_at
    }
  }
}

function placeOf (row: ResourceRow): { kind: string, namespace: string, name: string } {
  return { kind: row.kind, namespace: row.namespace, name: row.name }
}

// A missing resource has resourceVersion 0, so "expected 0" means "must not exist".
function checkExpected (key: Key, row: ResourceRow | undefined, expected: number | undefined): void {
  if (expected === undefined) return
  const actual = row?.resource_version ?? 0
  if (actual === expected) return
  const [kind, namespace, name] = key
  const what = `${kind} ${namespace}/${name}`
  const message = row === undefined
    ? `${what} does not exist (expected resourceVersion ${expected})`
    : expected === 0
      ? `${what} already exists`
      : `${what} has resourceVersion ${actual}, not ${expected}: it was changed meanwhile`
  throw new ConflictError(message, { hint: 'read the resource again and retry with its current resourceVersion' })
}

function notFound ([kind, namespace, name]: Key): NotFoundError {
  return new NotFoundError(`${kind} ${namespace}/${name} not found`, {
    hint: 'check the kind, namespace and name; it may have been deleted'
  })
}
