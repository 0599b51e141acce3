// One consumer of a Redis consumer group. A fetch first runs the fetch script
// (redis-scripts.ts: entries whose lease or delay ran out, by XAUTOCLAIM, then
// new ones, by XREADGROUP), and when there are none it blocks in XREADGROUP on
// the subscription's own connection, in slices, so that an entry whose lease
// runs out meanwhile is not left waiting for the whole wait. Each fetched
// message is held with the entry id and delivery count it came with: the
// settle script acts only while the group's pending entry still has both.
import { RECORD_LIMITS } from '../events/index.js'
import type { Backlog, BrokerMessage, SettleAck, Subscription } from './connector.js'
import { BUFFER_REPLIES, groupGone, redisFailure } from './redis-client.js'
import type { RedisBufferClient, RedisClient } from './redis-client.js'
import { entryIdBefore, entryMessage } from './redis-entry.js'
import { streamEntries } from './redis-read-reply.js'
import { SettleBatch } from './settle-batch.js'
import type { XReadGroupReply } from './redis-read-reply.js'
import type { RedisKeys } from './redis-keys.js'
import type { HeldEntry, SettleMode } from './redis-scripts.js'

/** The longest between two scans for entries whose lease ran out (XAUTOCLAIM). */
const CLAIM_EVERY_MS = 1_000
/** The most acknowledgements one script call carries. */
const ACK_BATCH_MAX = 1000
/** The longest a blocking read waits before the fetch script looks again for entries whose lease ran out. */
const BLOCK_SLICE_MS = 1_000
/** How many entries the backlog counts one by one, when the server cannot give the group's lag. */
const LAG_COUNT_LIMIT = 10_000
const DUE_MARGIN_MS = 2
const OVERDUE_POLL_MS = 50
/** How often a fetch looks, through the shared connection, while the subscription's reader is still reconnecting. */
const READER_DOWN_POLL_MS = 100

interface Lease {
  entryId: string
  deliveryCount: number
}

export interface RedisSubscriptionSettings {
  keys: RedisKeys
  group: string
  consumer: string
  leaseMs: number
  /** `redis://host:port`, for errors. */
  address: string
  /** The connector's shared connection. */
  client: RedisClient
  /** This subscription's own connection, for blocking reads; closed with it. */
  reader: RedisClient
  /** Called once the subscription has closed. */
  closed: (subscription: RedisSubscription) => void
}

export class RedisSubscription implements Subscription {
  private readonly held = new Map<BrokerMessage, Lease>()
  private readonly settings: RedisSubscriptionSettings
  /** The shared connection, answering bulk strings as Buffers (entry fields are bytes). */
  private readonly commands: RedisBufferClient
  private readonly ref: { stream: string, group: string }
  private claimCursor = '0-0'
  /** When the last full scan for lapsed leases ended (epoch ms). */
  private claimedAt = 0
  /** When the soonest delayed entry is due, as the last fetch saw it (epoch ms; infinity when none is). */
  private dueAt = Number.POSITIVE_INFINITY
  private readerId: number | undefined
  private blocking = false
  /** How long until the soonest delayed entry of the group is due, as the last fetch script saw it; -1 when none is. */
  private nextDueInMs = -1
  /** Settles once every fetch so far has ended. */
  private fetching: Promise<unknown> | undefined
  /** The acknowledgements of one turn go to the server in one script call. */
  private readonly acks = new SettleBatch<Lease, number>((leases) => this.sendAcks(leases), ACK_BATCH_MAX)
  private closing: Promise<void> | undefined

  constructor (settings: RedisSubscriptionSettings) {
    this.settings = settings
    this.commands = settings.client.withTypeMapping(BUFFER_REPLIES)
    this.ref = { stream: settings.keys.stream, group: settings.group }
    // A reconnected reader is a new server-side client with a new id (CLIENT UNBLOCK needs it).
    settings.reader.on('ready', () => { this.readerId = undefined })
  }

  /** The consumer's name in the group. */
  get consumer (): string {
    return this.settings.consumer
  }

  fetch (max: number, waitMs: number, signal?: AbortSignal): Promise<BrokerMessage[]> {
    if (this.closing !== undefined || signal?.aborted === true) return Promise.resolve([])
    const count = Number.isFinite(max) ? Math.max(1, Math.floor(max)) : 1
    const deadline = Date.now() + (Number.isFinite(waitMs) ? Math.max(0, waitMs) : 0)
    const previous = this.fetching
    const fetching = previous === undefined ? this.fetchUntil(count, deadline, signal) : this.fetchBeside(previous, count, deadline, signal)
    // The next fetch that must wait its turn waits for this one and every one before it.
    this.fetching = previous === undefined ? fetching : Promise.allSettled([previous, fetching])
    return fetching
  }

  async ack (message: BrokerMessage): Promise<SettleAck> {
    const lease = this.held.get(message)
    if (lease === undefined) return 'lease-lost'
    let done: number
    try {
      done = await this.acks.add(lease)
    } catch (err) {
      // Still held: the caller may settle it again once the server is back, if the lease has not run out by then.
      throw redisFailure(err, this.settings.address, this.ref)
    }
    this.held.delete(message)
    return done === 0 ? 'lease-lost' : 'settled'
  }

  /** The leases held go to the server with the turn's other acknowledgements, in one script call. */
  async ackMany (messages: readonly BrokerMessage[]): Promise<SettleAck[]> {
    const answers: SettleAck[] = new Array<SettleAck>(messages.length).fill('lease-lost')
    const leases: Lease[] = []
    const at: number[] = []
    for (let i = 0; i < messages.length; i++) {
      const lease = this.held.get(messages[i] as BrokerMessage)
      if (lease === undefined) continue
      leases.push(lease)
      at.push(i)
    }
    if (leases.length === 0) return answers
    let done: number[]
    try {
      done = await this.acks.addMany(leases)
    } catch (err) {
      // Still held, as with ack.
      throw redisFailure(err, this.settings.address, this.ref)
    }
    for (let k = 0; k < at.length; k++) {
      const i = at[k] as number
      this.held.delete(messages[i] as BrokerMessage)
      answers[i] = done[k] === 0 ? 'lease-lost' : 'settled'
    }
    return answers
  }

  retry (message: BrokerMessage, delayMs: number): Promise<SettleAck> {
    return this.redeliver(message, 'retry', delayMs)
  }

  release (message: BrokerMessage, delayMs: number): Promise<SettleAck> {
    return this.redeliver(message, 'release', delayMs)
  }

  working (message: BrokerMessage): Promise<SettleAck> {
    return this.settle(message, 'working')
  }

  dead (message: BrokerMessage, reason: string): Promise<SettleAck> {
    return this.settle(message, 'dead', reason)
  }

  async backlog (): Promise<Backlog> {
    const { client, keys, group, address } = this.settings
    let groups
    try {
      groups = await client.xInfoGroups(keys.stream)
    } catch (err) {
      throw redisFailure(err, address, this.ref)
    }
    const info = groups.find((candidate) => String(candidate.name) === group)
    if (info === undefined) throw groupGone(this.ref, address)
    const inFlight = Number(info.pending)
    // Redis 7.0 answers a null lag when entries were deleted inside the part the group has not read: count that part then.
    const waiting = typeof info.lag === 'number' ? info.lag : await this.countAfter(String(info['last-delivered-id']))
    return { waiting, inFlight }
  }

  close (): Promise<void> {
    this.closing ??= this.shutDown()
    return this.closing
  }

  /**
   * A fetch while others are under way. Unless one waits in a blocking read or
   * a scan for lapsed leases is due, what is new is read at once, beside them,
   * on the shared connection: with a backlog, two reads in flight overlap the
   * server's work on one with the client's on the other. Otherwise, or when
   * nothing new was there, it waits its turn (one blocking read at a time).
   */
  private async fetchBeside (previous: Promise<unknown>, max: number, deadline: number, signal: AbortSignal | undefined): Promise<BrokerMessage[]> {
    if (!this.blocking && !this.claimDue(Date.now())) {
      const entries = await this.readNewNow(max)
      if (entries.length > 0) {
        const messages = this.hold(entries)
        return this.closing === undefined ? messages : []
      }
    }
    await previous.catch(ignore)
    return this.closing === undefined && signal?.aborted !== true ? await this.fetchUntil(max, deadline, signal) : []
  }

  private async fetchUntil (max: number, deadline: number, signal: AbortSignal | undefined): Promise<BrokerMessage[]> {
    const onAbort = (): void => { void this.unblock() }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      for (;;) {
        let entries = await this.claimOrRead(max)
        if (entries.length === 0) {
          const remaining = deadline - Date.now()
          if (remaining <= 0 || signal?.aborted === true || this.closing !== undefined) return []
          entries = await this.awaitNew(max, Math.min(remaining, this.blockSlice()), signal)
        }
        if (entries.length > 0) {
          const messages = this.hold(entries)
          // Fetched while closing: held all the same, so that close() gives them back.
          return this.closing === undefined ? messages : []
        }
        if (signal?.aborted === true || this.closing !== undefined) return []
      }
    } finally {
      signal?.removeEventListener('abort', onAbort)
    }
  }

  private async claimOrRead (max: number): Promise<HeldEntry[]> {
    const { keys, group, consumer, leaseMs, address } = this.settings
    try {
      const now = Date.now()
      const claim = this.claimDue(now)
      if (!claim) return await this.readNewNow(max)
      const [cursor, entries, nextDueInMs] = await this.commands.roostFetch(keys, group, consumer, leaseMs, max, this.claimCursor, claim)
      this.claimCursor = cursor.toString('latin1')
      if (this.claimCursor === '0-0') this.claimedAt = now
      this.nextDueInMs = nextDueInMs
      this.dueAt = nextDueInMs < 0 ? Number.POSITIVE_INFINITY : now + nextDueInMs
      return entries
    } catch (err) {
      throw redisFailure(err, address, this.ref)
    }
  }

  private async readNewNow (max: number): Promise<HeldEntry[]> {
    const now = Date.now()
    let read: [HeldEntry[], number]
    try {
      read = await this.readNew(max)
    } catch (err) {
      throw redisFailure(err, this.settings.address, this.ref)
    }
    const [entries, nextDueInMs] = read
    this.nextDueInMs = nextDueInMs
    this.dueAt = nextDueInMs < 0 ? Number.POSITIVE_INFINITY : now + nextDueInMs
    return entries
  }

  /**
   * New entries only (no scan for lapsed leases due): XREADGROUP itself, with
   * the group's soonest delayed entry and the server's clock, in one round
   * trip of three commands. The fetch script answers the same, but a script's
   * reply is built as Lua tables and turned back into a reply, which for a
   * few hundred entries cost the server more than the read.
   */
  private async readNew (max: number): Promise<[HeldEntry[], number]> {
    const { client, keys, group, consumer } = this.settings
    const [reply, soonest, time] = await Promise.all([
      client.sendCommand<XReadGroupReply>(['XREADGROUP', 'GROUP', group, consumer, 'COUNT', String(max), 'STREAMS', keys.stream, '>'], { typeMapping: BUFFER_REPLIES }),
      client.sendCommand<unknown[]>(['ZRANGE', keys.delayed, '0', '0', 'WITHSCORES']),
      client.sendCommand<unknown[]>(['TIME'])
    ])
    return [streamEntries(reply), dueInMs(soonest, time)]
  }

  /**
   * Whether this fetch scans for entries whose lease ran out: while a scan is
   * under way (its cursor), once a delayed entry is due, and otherwise once a
   * quarter of a lease (at most CLAIM_EVERY_MS) — a lease cannot have run out
   * sooner, and scanning on every fetch was most of the server's work.
   */
  private claimDue (now: number): boolean {
    if (this.claimCursor !== '0-0' || now >= this.dueAt) return true
    return now - this.claimedAt >= Math.min(CLAIM_EVERY_MS, this.settings.leaseMs / 4)
  }

  // The reader reconnects on its own schedule: until it is back, the fetch polls through the shared connection.
  private async awaitNew (max: number, sliceMs: number, signal: AbortSignal | undefined): Promise<HeldEntry[]> {
    if (this.settings.reader.isReady) return await this.blockingRead(max, sliceMs)
    await pause(Math.min(sliceMs, READER_DOWN_POLL_MS), signal)
    return []
  }

  private async blockingRead (max: number, blockMs: number): Promise<HeldEntry[]> {
    const { reader, keys, group, consumer, address } = this.settings
    try {
      this.readerId ??= await reader.clientId()
      this.blocking = true
      const reply = await reader.sendCommand<XReadGroupReply>(
        ['XREADGROUP', 'GROUP', group, consumer, 'COUNT', String(max), 'BLOCK', String(Math.max(1, Math.round(blockMs))), 'STREAMS', keys.stream, '>'],
        { typeMapping: BUFFER_REPLIES }
      )
      return streamEntries(reply)
    } catch (err) {
      throw redisFailure(err, address, this.ref)
    } finally {
      this.blocking = false
    }
  }

  // A read wakes when a delayed entry falls due (a little after, so that its idle time has passed the lease), and at least once a slice.
  // One overdue and still not claimable (another subscriber's lease is longer) is looked at again no more than OVERDUE_POLL_MS apart.
  private blockSlice (): number {
    if (this.nextDueInMs < 0) return BLOCK_SLICE_MS
    if (this.nextDueInMs === 0) return OVERDUE_POLL_MS
    return Math.min(BLOCK_SLICE_MS, this.nextDueInMs + DUE_MARGIN_MS)
  }

  private hold (entries: readonly HeldEntry[]): BrokerMessage[] {
    const stream = this.settings.keys.stream
    const messages: BrokerMessage[] = new Array(entries.length)
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i] as HeldEntry
      const [id, fields] = entry
      const deliveryCount = entry.length === 4 ? entry[2] : 1
      const releases = entry.length === 4 ? entry[3] : 0
      const entryId = id.toString('latin1')
      // A release uses no attempt, so the count never drops below the first.
      const message = entryMessage(stream, entryId, fields, Math.max(1, deliveryCount - releases))
      this.held.set(message, { entryId, deliveryCount })
      messages[i] = message
    }
    return messages
  }

  private async sendAcks (leases: readonly Lease[]): Promise<readonly number[]> {
    const n = leases.length
    const ids: string[] = new Array(n)
    let count = (leases[0] as Lease).deliveryCount
    let inOrder = true
    for (let i = 0; i < n; i++) {
      const lease = leases[i] as Lease
      ids[i] = lease.entryId
      if (lease.deliveryCount !== count) count = 0
      if (i > 0 && inOrder && !entryIdBefore(ids[i - 1] as string, lease.entryId)) inOrder = false
    }
    const { client, keys, group, consumer } = this.settings
    if (count === 0) {
      const [first, last] = idRange(ids)
      return await client.roostAckMany(keys, group, consumer, first, last, 0, idsAndCounts(leases)) as number[]
    }
    // At one delivery count (nearly always), the ids alone in stream order: the script's fast path. A turn's
    // acknowledgements of several deliveries are sorted into that order, and the answers put back in theirs.
    const order = inOrder ? null : streamOrder(ids)
    const sorted = order === null ? ids : order.map((i) => ids[i] as string)
    const reply = await client.roostAckMany(keys, group, consumer, sorted[0] as string, sorted[n - 1] as string, count, sorted)
    if (typeof reply === 'number') {
      if (reply !== n) throw new Error(`the server answered ${reply} acknowledgements for ${n}`)
      return new Array<number>(n).fill(1)
    }
    if (order === null) return reply
    const answers = new Array<number>(n)
    for (let k = 0; k < n; k++) answers[order[k] as number] = reply[k] as number
    return answers
  }

  private redeliver (message: BrokerMessage, mode: 'retry' | 'release', delayMs: number): Promise<SettleAck> {
    return this.settle(message, mode, String(clampDelay(delayMs)), String(this.settings.leaseMs))
  }

  private async settle (message: BrokerMessage, mode: SettleMode, ...rest: string[]): Promise<SettleAck> {
    const lease = this.held.get(message)
    if (lease === undefined) return 'lease-lost'
    const { keys, group, consumer, address } = this.settings
    let done: number
    try {
      done = await this.commands.roostSettle(keys, group, consumer, lease.entryId, lease.deliveryCount, mode, ...rest)
    } catch (err) {
      // Still held: the caller may settle it again once the server is back, if the lease has not run out by then.
      throw redisFailure(err, address, this.ref)
    }
    if (done === 0 || mode !== 'working') this.held.delete(message)
    return done === 0 ? 'lease-lost' : 'settled'
  }

  // A blocked XREADGROUP ends early only when another connection unblocks it.
  private async unblock (): Promise<void> {
    if (!this.blocking || this.readerId === undefined) return
    try {
      await this.settings.client.clientUnblock(this.readerId)
    } catch {
      // The read ends with its connection, or by its own timeout.
    }
  }

  private async countAfter (lastDeliveredId: string): Promise<number> {
    const { client, keys, address } = this.settings
    try {
      return await client.roostCountAfter(keys.stream, lastDeliveredId, LAG_COUNT_LIMIT)
    } catch (err) {
      throw redisFailure(err, address, this.ref)
    }
  }

  private async shutDown (): Promise<void> {
    const { client, keys, group, consumer, leaseMs, reader } = this.settings
    await this.unblock()
    await this.fetching?.catch(ignore)
    // What is held goes back now, without using an attempt (not the messages' fault); what cannot, comes back when its lease runs out.
    const releases: Promise<unknown>[] = []
    for (const message of this.held.keys()) releases.push(this.settle(message, 'release', '0', String(leaseMs)).catch(ignore))
    await Promise.all(releases)
    this.held.clear()
    await client.roostForgetConsumer(keys.stream, group, consumer).catch(ignore)
    reader.destroy()
    this.settings.closed(this)
  }
}

/** The indices of `ids` in stream order. */
function streamOrder (ids: readonly string[]): number[] {
  const order = new Array<number>(ids.length)
  for (let i = 0; i < ids.length; i++) order[i] = i
  return order.sort((a, b) => entryIdBefore(ids[a] as string, ids[b] as string) ? -1 : 1)
}

/** The least and the greatest of `ids`. */
function idRange (ids: readonly string[]): [string, string] {
  let first = ids[0] as string
  let last = first
  for (let i = 1; i < ids.length; i++) {
    const id = ids[i] as string
    if (entryIdBefore(id, first)) first = id
    else if (entryIdBefore(last, id)) last = id
  }
  return [first, last]
}

function idsAndCounts (leases: readonly Lease[]): string[] {
  const entries: string[] = new Array(leases.length * 2)
  for (let i = 0; i < leases.length; i++) {
    const lease = leases[i] as Lease
    entries[2 * i] = lease.entryId
    entries[2 * i + 1] = String(lease.deliveryCount)
  }
  return entries
}

function clampDelay (delayMs: number): number {
  return Number.isFinite(delayMs) ? Math.min(Math.max(0, Math.round(delayMs)), RECORD_LIMITS.maxDelayMs) : 0
}

function ignore (): void {}

function pause (ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer)
      signal?.removeEventListener('abort', done)
      resolve()
    }
    const timer = setTimeout(done, ms)
    signal?.addEventListener('abort', done, { once: true })
  })
}

/** ms until the soonest delayed entry is due by the server's clock (0 when overdue), from ZRANGE … WITHSCORES and TIME; -1 when none is delayed. */
function dueInMs (soonest: unknown[], time: unknown[]): number {
  // RESP2 answers [member, score]; RESP3 [[member, score]].
  const first = soonest[0]
  const score = Array.isArray(first) ? first[1] : soonest[1]
  if (score === undefined || score === null) return -1
  const now = Number(time[0]) * 1000 + Math.floor(Number(time[1]) / 1000)
  return Math.max(0, Number(score) - now)
}
