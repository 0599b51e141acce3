// The gateway's end of the delivery channel: each delivery the control plane
// posts becomes a FastRequest routed by the gateway as a request over HTTP
// is, and its answer goes back whole. Deliveries cross no socket and no HTTP
// parser on their way from the dispatcher to the gateway.
import type { MessagePort } from 'node:worker_threads'
import { IdTable } from '../wire/index.js'
import type { DeliverCommand, DeliveryCommand, DeliveryReply } from './delivery-messages.js'
import { FastRequest } from './fast-request.js'
import { PortBatch } from './port-batch.js'
import { PortResponse, type PortAnswers } from './port-response.js'

/** What serves the deliveries: the Gateway. */
export interface DeliveryServer {
  serveDelivery (req: FastRequest, res: PortResponse): void
}

export class DeliveryPort implements PortAnswers {
  private readonly open = new IdTable<PortResponse>()
  private readonly out: PortBatch<DeliveryReply>

  constructor (private readonly port: MessagePort, private readonly server: DeliveryServer) {
    this.out = new PortBatch(port)
    port.on('message', (commands: DeliveryCommand[]) => {
      for (let i = 0; i < commands.length; i++) {
        const command = commands[i] as DeliveryCommand
        if (command.t === 'deliver') this.deliver(command)
        else this.open.get(command.id)?.cancel()
      }
    })
  }

  answered (id: number, status: number, headers: Record<string, string>, body: Uint8Array): void {
    if (!this.open.delete(id)) return
    this.out.post({ t: 'answer', id, status, headers, body }, body.byteLength === 0 ? undefined : body.buffer as ArrayBuffer)
  }

  failed (id: number, error: string): void {
    if (this.open.delete(id)) this.out.post({ t: 'failed', id, error })
  }

  /** The gateway stops: what is still open ends as if its caller left, and the channel closes. */
  close (): void {
    for (const res of this.open.list()) res.cancel()
    this.open.clear()
    this.out.flush()
    this.port.close()
  }

  private deliver (command: DeliverCommand): void {
    const { body } = command
    const preloaded = body.byteLength === 0 ? null : Buffer.from(body.buffer, body.byteOffset, body.byteLength)
    const req = new FastRequest(null, command.method, command.path, command.rawHeaders, preloaded)
    const res = new PortResponse(command.id, this)
    this.open.set(command.id, res)
    try {
      this.server.serveDelivery(req, res)
    } catch (err) {
      this.failed(command.id, `the gateway failed on the delivery: ${err instanceof Error ? err.message : String(err)}`)
    }
  }
}
