import assert from 'node:assert/strict'
import { once } from 'node:events'
import { connect, createServer, type Server, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'
import { test } from 'node:test'
import { portOf, relayedUrl, TcpRelay } from '../helpers/tcp-relay.js'

interface EchoServer {
  port: number
  /** Ends every connection it holds, as a server going away does. */
  dropConnections: () => void
  close: () => Promise<void>
}

async function echoServer (): Promise<EchoServer> {
  const sockets = new Set<Socket>()
  const server: Server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket)).on('error', () => {})
    socket.pipe(socket)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const dropConnections = (): void => { for (const socket of sockets) socket.destroy() }
  return {
    port: (server.address() as AddressInfo).port,
    dropConnections,
    close: async () => {
      dropConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    }
  }
}

async function connected (port: number): Promise<Socket> {
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  return socket
}

async function roundTrip (socket: Socket, text: string): Promise<string> {
  socket.write(text)
  const [chunk] = await once(socket, 'data') as [Buffer]
  return chunk.toString('utf8')
}

/** Whether a connection to the port is refused (it is, while the relay is cut). */
async function refused (port: number): Promise<boolean> {
  const socket = connect(port, '127.0.0.1')
  try {
    await once(socket, 'connect')
    return false
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ECONNREFUSED'
  } finally {
    socket.destroy()
  }
}

test('the relay pipes to its target, cuts every connection and refuses new ones, and restores on the same port', async (t) => {
  const echo = await echoServer()
  const port = echo.port
  const relay = await TcpRelay.start(port)
  t.after(async () => {
    await relay.close()
    await echo.close()
  })
  const relayPort = relay.listeningPort
  assert.notEqual(relayPort, port)

  const before = await connected(relayPort)
  assert.equal(await roundTrip(before, 'ping'), 'ping')

  const closed = once(before, 'close')
  await relay.cut()
  await closed
  assert.equal(relay.open, false)
  assert.equal(await refused(relayPort), true)

  await relay.restore()
  assert.equal(relay.listeningPort, relayPort)
  const after = await connected(relayPort)
  t.after(() => { after.destroy() })
  assert.equal(await roundTrip(after, 'pong'), 'pong')
})

test('the upstream going away ends the client\'s connection too', async (t) => {
  const server = await echoServer()
  const relay = await TcpRelay.start(server.port)
  t.after(async () => {
    await relay.close()
    await server.close()
  })
  const client = await connected(relay.listeningPort)
  assert.equal(await roundTrip(client, 'x'), 'x')
  const closed = once(client, 'close')
  server.dropConnections()
  await closed
})

test('a broker URL through the relay keeps its scheme, credentials and path', async (t) => {
  const relay = await TcpRelay.start(5672)
  t.after(() => relay.close())
  const port = relay.listeningPort
  assert.equal(relayedUrl('amqp://guest:guest@localhost:5672/vhost', relay), `amqp://guest:guest@127.0.0.1:${port}/vhost`)
  assert.equal(relayedUrl('nats://127.0.0.1:4222', relay), `nats://127.0.0.1:${port}`)
  assert.equal(portOf('redis://127.0.0.1:6390'), 6390)
  assert.equal(portOf('redis://127.0.0.1'), 6379)
  assert.equal(portOf('amqp://guest:guest@127.0.0.1'), 5672)
  assert.equal(portOf('nats://127.0.0.1'), 4222)
})
