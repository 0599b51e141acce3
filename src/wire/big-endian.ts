// Unsigned big-endian integers in and out of byte arrays, for frame headers
// and heads on the hot path. Buffer's readUInt32BE and friends are methods on
// Buffer.prototype: a call each, and a property load that the socket's
// buffers and their subarrays keep polymorphic (perf put these loads at 1% of
// the gateway thread). Element loads and stores on a Uint8Array are inlined.
// The caller checks the bounds.

export function readU16 (bytes: Uint8Array, at: number): number {
  return (bytes[at] as number) << 8 | (bytes[at + 1] as number)
}

export function readU32 (bytes: Uint8Array, at: number): number {
  return ((bytes[at] as number) * 0x1000000) + ((bytes[at + 1] as number) << 16 | (bytes[at + 2] as number) << 8 | (bytes[at + 3] as number))
}

export function writeU16 (bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 8
  bytes[at + 1] = value
}

export function writeU32 (bytes: Uint8Array, at: number, value: number): void {
  bytes[at] = value >>> 24
  bytes[at + 1] = value >>> 16
  bytes[at + 2] = value >>> 8
  bytes[at + 3] = value
}
