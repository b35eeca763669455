export { createInspectionLog, type InspectionRecord, inspectionRecord } from './inspection-log.js';
