/**
 * The `Accept` header to send the API server when the response may need masking: the client's
 * media ranges reduced to those the API server answers with JSON. Explicit protobuf, CBOR and
 * YAML ranges are dropped (the relay masks JSON only); JSON ranges keep their parameters
 * (`as=Table;g=meta.k8s.io;v=v1`, `as=PartialObjectMetadataList` …) so a client still gets the
 * shape it asked for; wildcards stay, as the API server answers them with JSON. With nothing left,
 * `application/json`. The relay still refuses whatever else comes back.
 */
export function jsonOnlyAccept(accept: string | readonly string[] | undefined): string {
  const given = typeof accept === 'string' ? accept : (accept ?? []).join(',');
  const ranges = given
    .split(',')
    .map((range) => range.trim())
    .filter((range) => range.length > 0 && answeredWithJson(mediaType(range)));
  return ranges.length === 0 ? 'application/json' : ranges.join(', ');
}

function mediaType(range: string): string {
  return range.split(';', 1)[0]!.trim().toLowerCase();
}

function answeredWithJson(type: string): boolean {
  return type === 'application/json' || type === '*/*' || type === 'application/*';
}
