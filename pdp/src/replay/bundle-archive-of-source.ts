import { join } from 'node:path';
import type { AuditSourceChoice } from '../audit/verification/readers/audit-reader-factory.ts';
import type { PdpConfig } from '../config/pdp-config.ts';
import { BUNDLE_ARCHIVE_FOLDER } from '../policy/bundle-archive/bundle-archive-layout.ts';
import type { BundleArchiveReader } from './bundle-archive-reader.ts';
import { FolderBundleArchiveReader } from './folder-bundle-archive-reader.ts';
import { KafkaBundleArchiveReader } from './kafka-bundle-archive-reader.ts';

/** The archive the records' bundles are read from: the folder given, else the store beside the records (the topic with Kafka, else `<state>/bundles`). */
export function bundleArchiveFor(choice: AuditSourceChoice, bundlesDir: string | undefined, config: PdpConfig): BundleArchiveReader {
  if (bundlesDir) return new FolderBundleArchiveReader(bundlesDir);
  if (!choice.dir) {
    const brokers = choice.kafka?.split(',').map((broker) => broker.trim()).filter(Boolean) ?? config.audit.kafka?.brokers;
    if (brokers && brokers.length > 0) return new KafkaBundleArchiveReader(brokers, choice.topicPrefix ?? config.audit.kafka?.topicPrefix ?? 'portcullis');
  }
  return new FolderBundleArchiveReader(join(config.stateDir, BUNDLE_ARCHIVE_FOLDER));
}
