import { Type, type Static } from '@sinclair/typebox';

/** Every HTTP error of the PDP: a machine-readable code (kebab-case, a closed set) and a sentence. */
export const ErrorV1 = Type.Object(
  {
    code: Type.String({ description: 'invalid-request, unauthenticated, forbidden, not-found, …' }),
    message: Type.String(),
    details: Type.Optional(Type.Record(Type.String(), Type.Unknown())),
  },
  { $id: 'ErrorV1' },
);
export type ErrorV1 = Static<typeof ErrorV1>;
