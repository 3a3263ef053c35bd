import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';

/** Whom a decision was issued to: the asking PEP, the resource, the principal and the session it was about. */
export interface DecisionParties {
  readonly pepSub: string;
  readonly resource: { readonly type: string; readonly name: string; readonly environment?: string | undefined };
  /** Null when the subject token did not verify. */
  readonly principal: { readonly iss: string; readonly sub: string } | null;
  /** The decision request's session id; absent when it named none (then it binds no session). */
  readonly sessionId?: string | undefined;
}

/** What the decision let the PEP do: run the one command, run it and same-shaped ones until a time, or nothing. */
export type DecisionGrant = { readonly kind: 'allow' } | { readonly kind: 'reuse'; readonly until: number } | { readonly kind: 'none' };

/** A decision id one of the replicas issued to exactly the parties it was checked against, and its grant. */
export interface SealedDecision {
  readonly grant: DecisionGrant;
  readonly issuedAt: number;
}

/** `<uuid>.<issued at, Unix seconds>.<grant: a | r<until, Unix seconds> | n>.<MAC, 128 bits base64url>` */
const SEALED_ID = /^([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})\.(\d{1,12})\.(a|n|r\d{1,12})\.([A-Za-z0-9_-]{22})$/;
const MAC_BYTES = 16;

/**
 * Decision ids that prove where they came from. Each id carries a MAC, under a key the PDP
 * replicas share, over the id, its issue time, what it granted (allow, allow with statement-shape
 * reuse until a time, or nothing), the PEP it was issued to, the resource, the principal and the
 * session. A session event naming a decision is checked against the event's own PEP, resource,
 * verified principal and session by whichever replica receives it, with no shared state: an
 * invented id, or one issued to another PEP, resource, principal or session, does not verify;
 * and a verified one says whether it allowed anything, and whether it may stand for reused
 * statements. A decision reused for statements of the same shape keeps its id, so it verifies.
 */
export class DecisionSeal {
  constructor(private readonly key: Buffer) {
    if (key.length < 32) throw new TypeError('decision seal: the key must hold at least 32 bytes');
  }

  /** A fresh decision's identity; `id(grant)` seals it once the grant is known (the uuid and time stay). */
  begin(parties: DecisionParties, now = Date.now()): { id(grant: DecisionGrant): string } {
    const uuid = randomUUID();
    const issuedAt = String(Math.floor(now / 1000));
    // A decision asks for its id more than once (an approval names it before the answer does).
    let last: { code: string; id: string } | undefined;
    return {
      id: (grant) => {
        const code = grantCode(grant);
        if (last?.code !== code) last = { code, id: `${uuid}.${issuedAt}.${code}.${this.#mac(uuid, issuedAt, code, parties, parties.sessionId ?? null).toString('base64url')}` };
        return last.id;
      },
    };
  }

  issue(parties: DecisionParties, grant: DecisionGrant, now = Date.now()): string {
    return this.begin(parties, now).id(grant);
  }

  /**
   * The decision, when this PDP (or a replica sharing its key) issued `decisionId` to exactly
   * these parties — in `parties.sessionId`'s session, or in none when the request named none.
   */
  verify(decisionId: string, parties: DecisionParties): SealedDecision | undefined {
    const match = SEALED_ID.exec(decisionId);
    if (match === null) return undefined;
    const [, uuid, issuedAt, code, mac] = match as unknown as [string, string, string, string, string];
    const presented = Buffer.from(mac, 'base64url');
    if (presented.length !== MAC_BYTES) return undefined;
    const sessions = parties.sessionId === undefined ? [null] : [parties.sessionId, null];
    if (!sessions.some((session) => timingSafeEqual(presented, this.#mac(uuid, issuedAt, code, parties, session)))) return undefined;
    return { grant: grantOf(code), issuedAt: Number(issuedAt) };
  }

  /**
   * A keyed digest of text that records withhold (SQL credentials, a Kubernetes Secret write as sent): it tells two texts apart
   * for every replica sharing the key, and is no hash of the secret anyone could guess offline.
   */
  withheldTextMac(text: string): string {
    return createHmac('sha256', this.key).update(JSON.stringify(['portcullis-withheld-text-v1', text])).digest('base64url');
  }

  #mac(uuid: string, issuedAt: string, grant: string, parties: DecisionParties, session: string | null): Buffer {
    const { pepSub, resource, principal } = parties;
    // A JSON array keeps the fields apart whatever characters they hold.
    const message = JSON.stringify(['portcullis-decision-v1', uuid, issuedAt, grant, pepSub, resource.type, resource.name, resource.environment ?? '', principal?.iss ?? '', principal?.sub ?? '', session]);
    return createHmac('sha256', this.key).update(message).digest().subarray(0, MAC_BYTES);
  }
}

function grantCode(grant: DecisionGrant): string {
  switch (grant.kind) {
    case 'allow':
      return 'a';
    case 'reuse':
      return `r${Math.floor(grant.until / 1000)}`;
    case 'none':
      return 'n';
  }
}

function grantOf(code: string): DecisionGrant {
  if (code === 'a') return { kind: 'allow' };
  if (code === 'n') return { kind: 'none' };
  return { kind: 'reuse', until: Number(code.slice(1)) * 1000 };
}
