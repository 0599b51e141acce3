// The store part: persistence for the platform. Other parts use only what is
// exported here.
export { Store, DATABASE_FILE, BLOB_FOLDER, KEY_FILE } from './store.js'
export { BlobStore } from './blob-store.js'
export { canonicalJson } from './canonical-json.js'
export { MAX_MESSAGE_BYTES } from './log-store.js'
export { TOKEN_PREFIX } from './token-table.js'
export type * from './types.js'
// For a part that keeps a SQLite file of its own next to roost.db (the events
// part's queue): the same schema steps and the same owner-only file modes.
export { migrate } from './migrations.js'
export { privateDirectory, createPrivateFile, restrictFiles } from './private-files.js'
