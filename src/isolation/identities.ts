// Each namespace's functions run as a uid and gid of their own, so that
// tenants cannot signal each other or read each other's files. The numbers
// must stay the same across restarts (files and cgroups carry them): the
// allocator is pure and hands each new assignment to `persist`.

export interface Identity {
  uid: number
  gid: number
}

export const FIRST_NAMESPACE_UID = 200_000
export const NAMESPACE_UID_COUNT = 65_536

export interface NamespaceIdentitiesOptions {
  /** Assignments made before (from the store). */
  known?: Iterable<readonly [namespace: string, uid: number]>
  /** Called once per new assignment, before it is used. */
  persist?: (namespace: string, uid: number) => void
  first?: number
  count?: number
}

export class NamespaceIdentities {
  private readonly byNamespace = new Map<string, number>()
  private readonly used = new Set<number>()
  private readonly first: number
  private readonly count: number
  private next: number

  constructor (private readonly options: NamespaceIdentitiesOptions = {}) {
    this.first = options.first ?? FIRST_NAMESPACE_UID
    this.count = options.count ?? NAMESPACE_UID_COUNT
    this.next = this.first
    for (const [namespace, uid] of options.known ?? []) {
      if (!Number.isInteger(uid) || uid < this.first || uid >= this.first + this.count) throw new RangeError(`uid ${uid} of namespace ${namespace} is outside ${this.first}…${this.first + this.count - 1}`)
      if (this.used.has(uid)) throw new RangeError(`uid ${uid} is assigned to two namespaces`)
      this.byNamespace.set(namespace, uid)
      this.used.add(uid)
    }
  }

  identityOf (namespace: string): Identity {
    let uid = this.byNamespace.get(namespace)
    if (uid === undefined) {
      uid = this.allocate()
      this.options.persist?.(namespace, uid)
      this.byNamespace.set(namespace, uid)
      this.used.add(uid)
    }
    return { uid, gid: uid }
  }

  private allocate (): number {
    for (let tried = 0; tried < this.count; tried++) {
      const uid = this.next
      this.next = this.next + 1 >= this.first + this.count ? this.first : this.next + 1
      if (!this.used.has(uid)) return uid
    }
    throw new RangeError(`all ${this.count} namespace uids from ${this.first} are assigned`)
  }
}
