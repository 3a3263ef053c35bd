import { contractValidator } from '../validation/contract-validator.ts';
import { AuditRecordV1 } from './audit-record-v1.ts';

export const auditRecordV1Validator = contractValidator(AuditRecordV1);
