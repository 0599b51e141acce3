// The baseline a user would run instead of a function on Roost: the same
// handler logic as a plain node:http server. Run as its own process:
//   node dist/bench/plain-node-server.js PORT BODY
// It prints `listening PORT` once it listens.
import { createServer } from 'node:http'

const [portText = '0', body = 'hello world'] = process.argv.slice(2)
const headers = { 'content-type': 'text/plain;charset=UTF-8', 'content-length': String(Buffer.byteLength(body)) }

const server = createServer({ keepAliveTimeout: 60_000 }, (_req, res) => {
  res.writeHead(200, headers)
  res.end(body)
})
server.listen(Number(portText), '127.0.0.1', () => {
  const address = server.address()
  process.stdout.write(`listening ${typeof address === 'object' && address !== null ? address.port : portText}\n`)
})
process.on('SIGTERM', () => server.close(() => process.exit(0)))
