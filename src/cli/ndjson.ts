/** Calls onLine with each line of a streamed body (application/x-ndjson), without its newline. */
export async function readLines (response: Response, onLine: (line: string) => void): Promise<void> {
  if (response.body === null) return
  const decoder = new TextDecoder()
  let buffered = ''
  for await (const chunk of response.body) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true })
    let newline = buffered.indexOf('\n')
    while (newline !== -1) {
      onLine(buffered.slice(0, newline))
      buffered = buffered.slice(newline + 1)
      newline = buffered.indexOf('\n')
    }
  }
}
