import { AUDIT_STREAMS } from '../../audit-event.ts';

/** The topic of a stream: `<prefix>.<stream>.v1`. */
export const topicFor = (prefix: string, stream: string): string => `${prefix}.${stream}.v1`;

/** Every audit topic's stream: the event streams and the signed digests. */
export const TOPIC_STREAMS = [...AUDIT_STREAMS, 'digests'] as const;
