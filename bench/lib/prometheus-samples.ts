/**
 * Every `portcullis_*` sample of a /metrics page, keyed by name plus labels exactly as printed
 * (`portcullis_http_requests_total{route="/v1/decisions",status="200"}`), for before/after deltas
 * that need the labels `scrapeMetrics` folds away.
 */
export async function scrapeLabelledSamples(url: string): Promise<Map<string, number>> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const samples = new Map<string, number>();
  for (const line of text.split('\n')) {
    const match = /^(portcullis_\w+(?:\{[^}]*\})?) ([\d.e+-]+)$/.exec(line);
    if (match) samples.set(match[1]!, Number(match[2]));
  }
  return samples;
}

/** The increase of every sample whose key contains all of `parts`, summed. */
export function sampleDelta(before: Map<string, number>, after: Map<string, number>, ...parts: string[]): number {
  let delta = 0;
  for (const [key, value] of after) {
    if (parts.every((part) => key.includes(part))) delta += value - (before.get(key) ?? 0);
  }
  return delta;
}
