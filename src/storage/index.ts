export { auditRecordSchema } from './audit-lines.js';
export { type AuditQuery, type AuditQueryOptions, queryAudit } from './audit-query.js';
export {
  defaultAuditLogOptions,
  FileAuditLog,
  type FileAuditLogOptions,
} from './file-audit-log.js';
export {
  defaultStateStoreOptions,
  FileStateStore,
  type FileStateStoreOptions,
} from './file-state-store.js';
export { defaultStateDir } from './layout.js';
export { MemoryAuditLog } from './memory-audit-log.js';
export { MemoryStateStore } from './memory-state-store.js';
export { newAuditRecord } from './new-record.js';
export { acquireStateLock, type StateLock } from './state-lock.js';
export { stateSchema } from './state-schema.js';
export {
  type AuditLog,
  type AuditRecord,
  type AuditType,
  auditFormatVersion,
  type Durability,
  type DurableNode,
  type DurableState,
  type StateStore,
  stateFormatVersion,
} from './types.js';
