import { contractValidator } from '../validation/contract-validator.ts';
import { ApprovalAnswerV1, ApprovalRecordV1, ApprovalStateV1, ApprovalVoteRequestV1 } from './approval-v1.ts';
import { ConsoleClientMessageV1, ConsoleServerMessageV1 } from './console-protocol-v1.ts';

export const approvalRecordV1Validator = contractValidator(ApprovalRecordV1);
export const approvalAnswerV1Validator = contractValidator(ApprovalAnswerV1);
export const approvalVoteRequestV1Validator = contractValidator(ApprovalVoteRequestV1);
export const consoleClientMessageV1Validator = contractValidator(ConsoleClientMessageV1);
export const consoleServerMessageV1Validator = contractValidator(ConsoleServerMessageV1);
export const approvalStateV1Validator = contractValidator(ApprovalStateV1);
