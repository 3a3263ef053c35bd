import { randomBytes, randomInt, timingSafeEqual } from 'node:crypto';

/** What a CancelRequest reaches: the session that handed out the key. */
export interface CancelTarget {
  /** Resolves once the cancel was passed on (the upstream server took its CancelRequest). */
  cancel(): Promise<void>;
}

export interface IssuedCancelKey {
  readonly processId: number;
  readonly secretKey: Buffer;
  /** Forgets the key (the session ended). */
  release(): void;
}

/**
 * The PEP's own BackendKeyData: clients never learn the upstream server's process id or secret,
 * so a CancelRequest has to come through the PEP, which maps it to the session it belongs to.
 */
export class CancelKeyRegistry {
  private readonly entries = new Map<number, { secretKey: Buffer; target: CancelTarget }>();

  issue(target: CancelTarget): IssuedCancelKey {
    let processId: number;
    do processId = randomInt(1, 0x7fffffff);
    while (this.entries.has(processId));
    const secretKey = randomBytes(4);
    const entry = { secretKey, target };
    this.entries.set(processId, entry);
    return {
      processId,
      secretKey,
      release: () => {
        if (this.entries.get(processId) === entry) this.entries.delete(processId);
      },
    };
  }

  /** Cancels the session the key belongs to; false when the key is unknown or the secret wrong. */
  /** False for a key this PEP did not hand out (nothing is cancelled); true once the cancel was passed on. */
  async cancel(processId: number, secretKey: Buffer): Promise<boolean> {
    const entry = this.entries.get(processId);
    if (!entry || entry.secretKey.length !== secretKey.length || !timingSafeEqual(entry.secretKey, secretKey)) return false;
    await entry.target.cancel();
    return true;
  }

  get size(): number {
    return this.entries.size;
  }
}
