// The store part: persistence for the platform. Other parts use only what is
// exported here.
export { Store, DATABASE_FILE, BLOB_FOLDER, KEY_FILE } from './store.js'
export { BlobStore } from './blob-store.js'
export { canonicalJson } from './canonical-json.js'
export { MAX_MESSAGE_BYTES } from './log-store.js'
export { TOKEN_PREFIX } from './token-table.js'
export type * from './types.js'
