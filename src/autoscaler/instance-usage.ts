// What a version's instances report of their own use of the CPU, from their
// liveness pongs (docs/internal-protocol.md), kept per instance.

/** One instance's pong: `elu` over the interval since its previous pong, `cpuUs` since it started. */
export interface InstanceUsage {
  versionKey: string
  instanceId: string
  /** When the pong arrived, epoch ms. */
  at: number
  /** Event-loop utilisation, 0…1. */
  elu: number
  /** User + system CPU time of the process so far, µs. */
  cpuUs: number
}

/** The version's instances together, over their latest reports. */
export interface UsageSummary {
  /** Mean event-loop utilisation of the instances that reported lately. */
  elu: number
  /** CPU time per wall second summed over them, in cores; null until one reported twice. */
  cpuCores: number | null
  instances: number
}

/** A report older than this (four 5 s pongs) no longer describes the instance. */
export const USAGE_STALE_MS = 20_000

interface Track {
  at: number
  elu: number
  cpuUs: number
  /** CPU time per wall time between its last two reports. */
  cores: number | null
}

export class VersionUsage {
  private readonly tracks = new Map<string, Track>()

  /** Reports that are not finite numbers, or arrive out of order, are ignored: they cannot describe the instance. */
  observe (usage: InstanceUsage): void {
    const { at, elu, cpuUs } = usage
    if (!Number.isFinite(at) || !Number.isFinite(elu) || !Number.isFinite(cpuUs) || cpuUs < 0) return
    const previous = this.tracks.get(usage.instanceId)
    if (previous !== undefined && at <= previous.at) return
    this.tracks.set(usage.instanceId, { at, elu: Math.min(1, Math.max(0, elu)), cpuUs, cores: coresBetween(previous, at, cpuUs) })
  }

  forget (instanceId: string): boolean {
    return this.tracks.delete(instanceId)
  }

  /** Over the instances that reported within USAGE_STALE_MS; null if none did. Stale ones are dropped. */
  summary (now: number): UsageSummary | null {
    let instances = 0
    let elu = 0
    let cpuCores: number | null = null
    for (const [id, track] of this.tracks) {
      if (now - track.at > USAGE_STALE_MS) {
        this.tracks.delete(id)
        continue
      }
      instances++
      elu += track.elu
      if (track.cores !== null) cpuCores = (cpuCores ?? 0) + track.cores
    }
    return instances === 0 ? null : { elu: elu / instances, cpuCores, instances }
  }
}

// A counter that went backwards (it cannot, for one process) gives no rate.
function coresBetween (previous: Track | undefined, at: number, cpuUs: number): number | null {
  if (previous === undefined || cpuUs < previous.cpuUs) return null
  return (cpuUs - previous.cpuUs) / ((at - previous.at) * 1000)
}
