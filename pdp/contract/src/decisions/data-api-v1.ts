import { Type, type Static } from '@sinclair/typebox';

/** `POST|GET /v1/data/{path}`: OPA's Data API, answered as OPA does on the same bundle (OPA clients keep working). */
export const DataRequestV1 = Type.Object({ input: Type.Optional(Type.Unknown()) }, { $id: 'DataRequestV1' });
export type DataRequestV1 = Static<typeof DataRequestV1>;

/** No `result` when the document is undefined for the input. */
export const DataResponseV1 = Type.Object({ result: Type.Optional(Type.Unknown()), decision_id: Type.String() }, { $id: 'DataResponseV1' });
export type DataResponseV1 = Static<typeof DataResponseV1>;

/** OPA's error shape (`invalid_parameter`, `internal_error` …), not ErrorV1. */
export const DataErrorV1 = Type.Object({ code: Type.String(), message: Type.String() }, { $id: 'DataErrorV1', additionalProperties: true });
export type DataErrorV1 = Static<typeof DataErrorV1>;
