// `spec.memory` bounds the whole process (cgroup or measured RSS). The V8 heap
// gets a limit inside it, so that a growing heap ends with V8's own "heap out
// of memory" (clearer) before the kernel's OOM kill. Measured on Node 20: a
// heap of 3/4 of the budget less 16 MiB, with semi-spaces of 1/16 of it for
// small budgets, peaks below the budget (128 MiB: 96; 512 MiB: 394).

/** Node itself needs about 40 MiB resident: a smaller budget could not even start. */
export const MIN_PROCESS_MIB = 64

export interface MemoryBudget {
  /** The bound of the whole process. */
  limitBytes: number
  heapMiB: number
  semiSpaceMiB: number
}

export function memoryBudget (memoryMiB: number): MemoryBudget {
  const mib = Math.max(MIN_PROCESS_MIB, Math.floor(memoryMiB))
  return {
    limitBytes: mib * 1024 * 1024,
    heapMiB: Math.floor(mib * 3 / 4) - 16,
    semiSpaceMiB: mib >= 256 ? 16 : Math.max(1, Math.floor(mib / 16))
  }
}
