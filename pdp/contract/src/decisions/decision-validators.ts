import { contractValidator } from '../validation/contract-validator.ts';
import { DecisionAnswerEssentialsV1, DecisionResponseV1, DecisionReuseV1, ReasonV1, SyntaxErrorV1 } from './decision-response-v1.ts';
import { MaskTargetV1 } from './mask-obligation-v1.ts';
import { SqlOutputsRequestV1 } from './sql-outputs-v1.ts';

// The compiled checks of the decision messages and of the parts readers take one by one.
export const decisionResponseV1Validator = contractValidator(DecisionResponseV1);
export const decisionAnswerEssentialsV1Validator = contractValidator(DecisionAnswerEssentialsV1);
export const reasonV1Validator = contractValidator(ReasonV1);
export const maskTargetV1Validator = contractValidator(MaskTargetV1);
export const decisionReuseV1Validator = contractValidator(DecisionReuseV1);
export const syntaxErrorV1Validator = contractValidator(SyntaxErrorV1);
export const sqlOutputsRequestV1Validator = contractValidator(SqlOutputsRequestV1);
