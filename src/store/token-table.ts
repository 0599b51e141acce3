import { createHash, randomBytes } from 'node:crypto'
import type Database from 'better-sqlite3'
import type { CreatedToken, TokenInfo, TokenScope } from './types.js'

interface TokenRow {
  id: string
  hash: string
  namespace: string
  description: string | null
  created_at: string
}

export const TOKEN_PREFIX = 'roost_'

export const TOKEN_SQL = {
  insert: `INSERT INTO tokens (id, hash, namespace, description, created_at)
    VALUES (@id, @hash, @namespace, @description, @created_at)`,
  byHash: 'SELECT id, namespace FROM tokens WHERE hash = ?',
  list: 'SELECT id, hash, namespace, description, created_at FROM tokens ORDER BY created_at, id',
  delete: 'DELETE FROM tokens WHERE id = ?'
} as const

// API tokens. Only the sha256 of a token is stored: a copy of the database
// file gives no way in. A lookup hashes the presented token and finds the row
// by index, so no secret is ever compared byte by byte.
export class TokenTable {
  private readonly insertStatement: Database.Statement<[TokenRow], unknown>
  private readonly byHashStatement: Database.Statement<[string], { id: string, namespace: string }>
  private readonly listStatement: Database.Statement<[], TokenRow>
  private readonly deleteStatement: Database.Statement<[string], unknown>

  constructor (db: Database.Database) {
    this.insertStatement = db.prepare<[TokenRow], unknown>(TOKEN_SQL.insert)
    this.byHashStatement = db.prepare<[string], { id: string, namespace: string }>(TOKEN_SQL.byHash)
    this.listStatement = db.prepare<[], TokenRow>(TOKEN_SQL.list)
    this.deleteStatement = db.prepare<[string], unknown>(TOKEN_SQL.delete)
  }

  create (scope: TokenScope): CreatedToken {
    const token = TOKEN_PREFIX + randomBytes(32).toString('base64url')
    const id = 'tok_' + randomBytes(8).toString('hex')
    this.insertStatement.run({
      id,
      hash: hashToken(token),
      namespace: scope.namespace,
      description: scope.description ?? null,
      created_at: new Date().toISOString()
    })
    return { id, token }
  }

  lookup (token: string): { id: string, namespace: string } | undefined {
    if (!token.startsWith(TOKEN_PREFIX)) return undefined
    const row = this.byHashStatement.get(hashToken(token))
    return row === undefined ? undefined : { id: row.id, namespace: row.namespace }
  }

  list (): TokenInfo[] {
    return this.listStatement.all().map((row) => ({
      id: row.id,
      namespace: row.namespace,
      description: row.description ?? undefined,
      createdAt: row.created_at
    }))
  }

  delete (id: string): boolean {
    return this.deleteStatement.run(id).changes > 0
  }
}

function hashToken (token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex')
}
