export interface SplitTarget<T> {
  percent: number
  tag?: string
  /** Requests in this lane go to this target, whatever its percent. */
  lane?: string
  value: T
}

/** Picks a version by weight, or by tag when the caller names one (`x-roost-tag`). */
export class TrafficSplit<T> {
  private readonly thresholds: number[] = []
  private readonly values: T[] = []
  private readonly tags = new Map<string, T>()
  private readonly lanes = new Map<string, T>()

  constructor (targets: Array<SplitTarget<T>>) {
    let total = 0
    for (const target of targets) {
      if (target.tag !== undefined) this.tags.set(target.tag, target.value)
      if (target.lane !== undefined) this.lanes.set(target.lane, target.value)
      if (target.percent <= 0) continue
      total += target.percent
      this.thresholds.push(total)
      this.values.push(target.value)
    }
    if (this.values.length === 0 && targets.length > 0) {
      this.thresholds.push(100)
      this.values.push(targets[0].value)
    }
  }

  /** The target of a lane; undefined when no target serves it (the request takes the default split). */
  pickLane (lane: string): T | undefined {
    return this.lanes.size === 0 ? undefined : this.lanes.get(lane)
  }

  pick (tag: string | undefined): T {
    if (tag !== undefined) {
      const tagged = this.tags.get(tag)
      if (tagged !== undefined) return tagged
    }
    if (this.values.length === 1) return this.values[0]
    const roll = Math.random() * this.thresholds[this.thresholds.length - 1]
    for (let i = 0; i < this.thresholds.length; i++) if (roll < this.thresholds[i]) return this.values[i]
    return this.values[this.values.length - 1]
  }
}
