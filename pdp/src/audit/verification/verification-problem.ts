export type ProblemKind =
  | 'gap' | 'hash-mismatch' | 'broken-link' | 'duplicate-conflict' | 'bad-signature' | 'digest-mismatch' | 'digest-range-missing' | 'unparseable'
  // Producer lineage (producer-lineage.ts): runs and tails that are missing or unaccounted for.
  | 'no-digest' | 'unattested' | 'producer-unannounced' | 'producer-missing' | 'truncated' | 'stop-missing' | 'tail-cut' | 'after-stop'
  // The keys: none of the trusted keys was there to verify with.
  | 'untrusted-key'
  // A decision names a policy revision no bundle.activated record of its chain attests (policy-attestation.ts).
  | 'unattested-revision'
  // The store keeps a stream for less time than the PDP's signed checkpoints say it must (retention-in-force.ts).
  | 'retention-shortened';

export interface VerificationProblem {
  readonly kind: ProblemKind;
  /** Names the exact record (stream, producer, seq, decision or event id, where), gap or digest. */
  readonly message: string;
  readonly where?: string;
  readonly producer_id?: string;
  readonly stream?: string;
  readonly seq?: number;
  readonly decision_id?: string;
}
