import type { Context } from '@roost/types'

// The bundled example: `npm start` deploys it. Try
//   curl 'http://127.0.0.1:8080/fn/hello?name=roost'
//   bin/roost invoke hello --data world
export default async function (req: Request, ctx: Context): Promise<Response> {
  const name = req.method === 'POST' ? await req.text() : new URL(req.url).searchParams.get('name')
  ctx.log.info('greeting', name ?? 'world')
  return new Response(`hello, ${name || 'world'}!\n`, { headers: { 'content-type': 'text/plain; charset=utf-8' } })
}
