import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

/** Whom a decision was issued to: the asking PEP, the resource, and the principal it was about. */
export interface DecisionParties {
  readonly pepSub: string;
  readonly resource: { readonly type: string; readonly name: string; readonly environment?: string | undefined };
  /** Null when the subject token did not verify. */
  readonly principal: { readonly iss: string; readonly sub: string } | null;
}

/** `<uuid>.<issued at, Unix seconds>.<MAC, 128 bits base64url>` */
const SEALED_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(\d{1,12})\.([A-Za-z0-9_-]{22})$/;
const MAC_BYTES = 16;

/**
 * Decision ids that prove where they came from. Each id carries a MAC, under a key the PDP
 * replicas share, over the id, its issue time, the PEP it was issued to, the resource and the
 * principal. A session event naming a decision is checked against the event's own PEP, resource
 * and verified principal by whichever replica receives it, with no shared state: an invented id,
 * or one issued to another PEP, resource or principal, does not verify. A decision reused for
 * statements of the same shape keeps its id, so it verifies for the session it was issued in.
 */
export class DecisionSeal {
  constructor(private readonly key: Buffer) {
    if (key.length < 32) throw new TypeError('decision seal: the key must hold at least 32 bytes');
  }

  issue(parties: DecisionParties, now = Date.now()): string {
    const id = randomUUID();
    const issuedAt = String(Math.floor(now / 1000));
    return `${id}.${issuedAt}.${this.#mac(id, issuedAt, parties).toString('base64url')}`;
  }

  /** True only for an id this PDP (or a replica sharing its key) issued to exactly these parties. */
  verify(decisionId: string, parties: DecisionParties): boolean {
    const match = SEALED_ID.exec(decisionId);
    if (match === null) return false;
    const [, id, issuedAt, mac] = match as unknown as [string, string, string, string];
    const presented = Buffer.from(mac, 'base64url');
    return presented.length === MAC_BYTES && timingSafeEqual(presented, this.#mac(id, issuedAt, parties));
  }

  #mac(id: string, issuedAt: string, parties: DecisionParties): Buffer {
    const { pepSub, resource, principal } = parties;
    // A JSON array keeps the fields apart whatever characters they hold.
    const message = JSON.stringify(['portcullis-decision-v1', id, issuedAt, pepSub, resource.type, resource.name, resource.environment ?? '', principal?.iss ?? '', principal?.sub ?? '']);
    return createHmac('sha256', this.key).update(message).digest().subarray(0, MAC_BYTES);
  }
}
