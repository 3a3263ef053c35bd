import type { KafkaProducerSessionOptions } from './kafka-producer-session.ts';

/** What the Kafka shipper thread starts with. */
export interface KafkaShipperData {
  readonly session: KafkaProducerSessionOptions;
  /** Niceness of the shipper thread (0: as the rest of the process). */
  readonly niceness: number;
}

/** A record's bytes cross threads as a view; the thread wraps them as a Buffer again without copying. */
export interface ShipperTopicMessages {
  readonly topic: string;
  readonly messages: ReadonlyArray<{ readonly key: string; readonly value: Uint8Array; readonly headers: Readonly<Record<string, string>> }>;
}

export type ToKafkaShipper =
  | { readonly kind: 'prepare'; readonly id: number }
  | { readonly kind: 'send'; readonly id: number; readonly topics: readonly ShipperTopicMessages[] }
  | { readonly kind: 'close'; readonly id: number };

export type FromKafkaShipper =
  | { readonly kind: 'done'; readonly id: number; readonly error?: { readonly message: string; readonly type?: string } }
  | { readonly kind: 'log'; readonly message: string };
