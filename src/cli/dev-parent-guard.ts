// Preloaded into the runtime `roost dev` starts (node --import): when `roost dev`
// goes away, even by kill -9, its end of our stdin closes and the runtime ends too.
process.stdin.on('end', () => process.exit(0))
process.stdin.on('error', () => process.exit(0))
process.stdin.resume()
export {}
