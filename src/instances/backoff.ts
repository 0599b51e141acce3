// How long to wait before trying again after repeated failures to start: the
// first failure is retried at once (it may be a fluke); repeats back off so a
// broken version, or a machine that cannot spawn, does not spin.
const FIRST_BACKOFF_MS = 250
export const MAX_BACKOFF_MS = 30_000

/** The delay before the next attempt after `failures` failures in a row. */
export function backoffDelay (failures: number): number {
  return failures <= 1 ? 0 : Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (failures - 2))
}
