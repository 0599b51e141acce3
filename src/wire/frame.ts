// The framed protocol between the platform and a runtime process. One frame:
//
//   u32 BE  length of what follows (type + stream + payload)
//   u8      type (FrameType)
//   u32 BE  stream: the request on a data connection; 0 for the connection itself
//   …       payload
//
// It carries requests and responses on a data connection (gateway ↔ instance,
// over a Unix socket only the platform can open) and control messages on a
// control channel (instance manager ↔ runtime, over an inherited pipe). Both
// ends parse defensively: a frame is bounded before a byte of it is buffered.

export const FRAME_HEADER_BYTES = 9

export const enum FrameType {
  /** gateway → instance, stream 0, first frame of a connection: the instance's secret. */
  Hello = 1,
  /** gateway → instance: a request head (see heads.ts). The body, if any, follows as RequestBody frames. */
  Request = 2,
  RequestBody = 3,
  /** gateway → instance: the request body is complete (sent at once for a request without one). */
  RequestEnd = 4,
  /** gateway → instance: the caller went away or the deadline passed; stop and send nothing more. */
  Cancel = 5,
  /** instance → gateway: the response head. */
  Response = 6,
  ResponseBody = 7,
  ResponseEnd = 8,
  /** instance → gateway: the response failed after its head was sent; payload: a UTF-8 reason. */
  Abort = 9,
  /** instance → gateway: the request was not started (no handler yet, draining); safe to send elsewhere. */
  Refused = 10,
  /** either way, per stream: stop sending body frames of this stream until Resume. */
  Pause = 11,
  Resume = 12,
  /** instance → gateway, stream 0: the instance drains; send no new request on this connection. */
  GoAway = 13,
  /** instance manager ↔ runtime, stream 0: one control message as UTF-8 JSON. */
  Control = 32
}

/** Largest payload a data connection accepts in one frame; bodies are cut into frames of BODY_CHUNK_BYTES. */
export const MAX_DATA_PAYLOAD_BYTES = 1024 * 1024
/** Body chunks larger than this are sent as several frames, so no frame holds a stream back for long. */
export const BODY_CHUNK_BYTES = 256 * 1024
/** Largest control message (a batch of log lines is the largest there is). */
export const MAX_CONTROL_PAYLOAD_BYTES = 1024 * 1024
