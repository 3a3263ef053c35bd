import { promisify } from 'node:util';
import { gzipSync, unzip } from 'node:zlib';
import kafkajs from 'kafkajs';

// kafkajs is CommonJS and Node's loader does not see these as named exports.
const { CompressionCodecs, CompressionTypes } = kafkajs;

const unzipAsync = promisify(unzip);

/** The codecs the audit topics may use: gzip is the one every Kafka client reads without a plugin (kcat, librdkafka, Java). */
export type AuditCompression = 'none' | 'gzip';

/**
 * gzip at its fastest level for the batches this process produces. Audit records repeat the same
 * names and values from one record to the next, so level 1 already takes most of what level 6
 * (kafkajs's default) would, for a fraction of the CPU; consumers decompress either the same way.
 * Compressed on the calling thread (the Kafka shipper's, at its lower priority), not on libuv's
 * pool, whose threads run the spool's fsyncs that answers wait for. kafkajs keeps codecs per
 * process (here: per thread), so this only touches the shipper thread.
 */
export function useFastGzip(): void {
  CompressionCodecs[CompressionTypes.GZIP] = () => ({
    compress: (encoder: { buffer: Buffer }) => Promise.resolve(gzipSync(encoder.buffer, { level: 1 })),
    decompress: (buffer: Buffer) => unzipAsync(buffer),
  });
}

/** The kafkajs compression type of a configured codec. */
export function compressionType(compression: AuditCompression): number {
  return compression === 'gzip' ? CompressionTypes.GZIP : CompressionTypes.None;
}

/**
 * The topic's `compression.type`: the codec its batches are stored with. Set to the producer's
 * own, the broker keeps the batches as they arrive (no recompression); `producer` keeps
 * whatever a producer sent.
 */
export function topicCompression(compression: AuditCompression): string {
  return compression === 'none' ? 'producer' : compression;
}
