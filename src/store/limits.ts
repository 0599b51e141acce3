// SQLite reads a negative LIMIT as "no limit" and refuses a non-integer one:
// every count that reaches a LIMIT or OFFSET goes through here.
export function sanitizeLimit (limit: number | undefined, fallback: number): number {
  if (limit === undefined || Number.isNaN(limit)) return fallback
  return Math.min(Math.max(0, Math.floor(limit)), Number.MAX_SAFE_INTEGER)
}

// How many entries a prune keeps. A count that is not a number or is negative
// is a caller's bug: refusing it beats reading it as 0 and deleting everything.
export function keepCount (keep: number): number {
  if (!(keep >= 0)) throw new RangeError(`cannot keep ${String(keep)} entries: give a count of 0 or more`)
  return Math.min(Math.floor(keep), Number.MAX_SAFE_INTEGER)
}
