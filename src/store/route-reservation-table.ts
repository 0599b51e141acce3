import type Database from 'better-sqlite3'
import type { RouteReservation } from './types.js'

interface ReservationRow {
  prefix: string
  namespace: string
  created_at: string
}

export const RESERVATION_SQL = {
  get: 'SELECT prefix, namespace, created_at FROM route_reservations WHERE prefix = ?',
  list: 'SELECT prefix, namespace, created_at FROM route_reservations ORDER BY prefix',
  upsert: `INSERT INTO route_reservations (prefix, namespace, created_at) VALUES (@prefix, @namespace, @created_at)
    ON CONFLICT (prefix) DO UPDATE SET namespace = excluded.namespace, created_at = excluded.created_at`,
  delete: 'DELETE FROM route_reservations WHERE prefix = ?'
} as const

// Path prefixes reserved for a namespace. The store keeps them; what overlaps
// what is the API's rule (src/api/route-ownership.ts).
export class RouteReservationTable {
  private readonly getStatement: Database.Statement<[string], ReservationRow>
  private readonly listStatement: Database.Statement<[], ReservationRow>
  private readonly upsertStatement: Database.Statement<[ReservationRow], unknown>
  private readonly deleteStatement: Database.Statement<[string], unknown>

  constructor (db: Database.Database) {
    this.getStatement = db.prepare<[string], ReservationRow>(RESERVATION_SQL.get)
    this.listStatement = db.prepare<[], ReservationRow>(RESERVATION_SQL.list)
    this.upsertStatement = db.prepare<[ReservationRow], unknown>(RESERVATION_SQL.upsert)
    this.deleteStatement = db.prepare<[string], unknown>(RESERVATION_SQL.delete)
  }

  // Creates the reservation or moves it to another namespace; unchanged if it is already so.
  put (prefix: string, namespace: string): { reservation: RouteReservation, changed: boolean } {
    const existing = this.getStatement.get(prefix)
    if (existing !== undefined && existing.namespace === namespace) return { reservation: toReservation(existing), changed: false }
    const row = { prefix, namespace, created_at: new Date().toISOString() }
    this.upsertStatement.run(row)
    return { reservation: toReservation(row), changed: true }
  }

  list (): RouteReservation[] {
    return this.listStatement.all().map(toReservation)
  }

  delete (prefix: string): boolean {
    return this.deleteStatement.run(prefix).changes > 0
  }
}

function toReservation (row: ReservationRow): RouteReservation {
  return { prefix: row.prefix, namespace: row.namespace, createdAt: row.created_at }
}
