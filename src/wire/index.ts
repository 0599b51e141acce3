// The framed protocol between the platform and runtime processes: frames,
// request and response heads, a bounded decoder and a coalescing writer.
// Shared by the gateway, the instance manager and the runtime, so it imports
// nothing but node built-ins.
export { FRAME_HEADER_BYTES, FrameType, MAX_DATA_PAYLOAD_BYTES, BODY_CHUNK_BYTES, MAX_CONTROL_PAYLOAD_BYTES } from './frame.js'
export { FrameDecoder, type FrameHandler } from './frame-decoder.js'
export { FrameWriter, type FrameSink } from './frame-writer.js'
export { IdTable, MAX_ID } from './id-table.js'
export { RequestFlags, readRequestHead, readResponseHead, type RequestHead, type ResponseHead } from './heads.js'
export { readLatin1, writeLatin1 } from './latin1-text.js'
export { WireError } from './wire-error.js'
