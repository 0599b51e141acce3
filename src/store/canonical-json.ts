// JSON with object keys sorted at every depth, so that two values that are
// deep-equal as JSON give the same text. The store keeps specs and labels in
// this form, which makes "did anything change?" a string comparison.

export function canonicalJson (value: unknown): string {
  // JSON.stringify(undefined) yields undefined; a missing value is stored as null
  return JSON.stringify(value, sortKeys) ?? 'null'
}

// A replacer sees each value after toJSON() ran, so Dates and the like are
// already strings here; only plain objects need their keys reordered.
function sortKeys (_key: string, value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value
  const sorted: Record<string, unknown> = {}
  for (const key of Object.keys(value).sort()) {
    sorted[key] = (value as Record<string, unknown>)[key]
  }
  return sorted
}
