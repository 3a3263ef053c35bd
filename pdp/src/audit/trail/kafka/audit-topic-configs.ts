import kafkajs, { type Admin } from 'kafkajs';
import { topicCompression, type AuditCompression } from './audit-compression.ts';

// kafkajs is CommonJS and Node's loader does not see this enum as a named export.
const { ConfigResourceTypes } = kafkajs;

/** The broker deletes a segment once its newest record is older than retention.ms: records outlive their retention by at most one segment's span. */
const MAX_SEGMENT_MS = 86_400_000;
const MIN_SEGMENT_MS = 1000;

/**
 * The topic configs that make a stream's retention (AU-11) real: retention.ms (-1: for ever),
 * and, for a finite one, segments that roll within it, since the broker deletes whole segments.
 */
export function retentionConfigs(retentionMs: number | null): { name: string; value: string }[] {
  if (retentionMs === null) return [{ name: 'retention.ms', value: '-1' }];
  return [
    { name: 'retention.ms', value: String(retentionMs) },
    { name: 'segment.ms', value: String(Math.max(MIN_SEGMENT_MS, Math.min(Math.floor(retentionMs / 10), MAX_SEGMENT_MS))) },
  ];
}

/** Every config the audit trail sets on a stream's topic: its retention and the codec its batches are stored with. */
export function auditTopicConfigs(retentionMs: number | null, compression: AuditCompression): { name: string; value: string }[] {
  return [...retentionConfigs(retentionMs), { name: 'compression.type', value: topicCompression(compression) }];
}

/**
 * Sets existing topics to their configured retention and compression where they differ; returns
 * the topics altered. Only topics of the audit trail are passed here, whose other configs are the broker's defaults.
 */
export async function alignTopicConfigs(admin: Admin, wanted: ReadonlyMap<string, number | null>, compression: AuditCompression): Promise<string[]> {
  if (wanted.size === 0) return [];
  const described = await admin.describeConfigs({
    includeSynonyms: false,
    resources: [...wanted.keys()].map((name) => ({ type: ConfigResourceTypes.TOPIC, name, configNames: ['retention.ms', 'segment.ms', 'compression.type'] })),
  });
  const altered: string[] = [];
  for (const resource of described.resources) {
    const entries = auditTopicConfigs(wanted.get(resource.resourceName) ?? null, compression);
    const current = new Map(resource.configEntries.map((entry) => [entry.configName, entry.configValue]));
    if (entries.every((entry) => current.get(entry.name) === entry.value)) continue;
    await admin.alterConfigs({ validateOnly: false, resources: [{ type: ConfigResourceTypes.TOPIC, name: resource.resourceName, configEntries: entries }] });
    altered.push(resource.resourceName);
  }
  return altered;
}
