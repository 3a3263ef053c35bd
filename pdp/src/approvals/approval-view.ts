import type { ApprovalRecord } from './approval-store.ts';

/** A record as clients see it: everything but the binding hash, which only the PDP compares. */
export type ApprovalRecordView = Omit<ApprovalRecord, 'binding'>;

export function approvalRecordView(record: ApprovalRecord): ApprovalRecordView {
  const { binding: _binding, ...view } = record;
  return view;
}
