/**
 * The part of the OCSF 1.8.0 schema Portcullis writes: its classes with their categories and
 * activity captions, and the captions of the enums every record sets. Captions come from the
 * schema's own files (events/*, dictionary.json, profiles/security_control.json).
 */

export const OCSF_VERSION = '1.8.0';

export const ACTIVITY_OTHER = 99;
export const ACTIVITY_CAPTION_OTHER = 'Other';

export interface OcsfClass {
  readonly uid: number;
  readonly name: string;
  readonly categoryUid: number;
  readonly categoryName: string;
  readonly activities: Readonly<Record<number, string>>;
}

export const DATASTORE_ACTIVITY: OcsfClass = {
  uid: 6005, name: 'Datastore Activity', categoryUid: 6, categoryName: 'Application Activity',
  activities: { 0: 'Unknown', 1: 'Read', 2: 'Update', 3: 'Connect', 4: 'Query', 5: 'Write', 6: 'Create', 7: 'Delete', 8: 'List', 9: 'Encrypt', 10: 'Decrypt', 99: 'Other' },
};

export const API_ACTIVITY: OcsfClass = {
  uid: 6003, name: 'API Activity', categoryUid: 6, categoryName: 'Application Activity',
  activities: { 0: 'Unknown', 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 99: 'Other' },
};

export const PROCESS_ACTIVITY: OcsfClass = {
  uid: 1007, name: 'Process Activity', categoryUid: 1, categoryName: 'System Activity',
  activities: { 0: 'Unknown', 1: 'Launch', 2: 'Terminate', 3: 'Open', 4: 'Inject', 5: 'Set User ID', 99: 'Other' },
};

export const USER_ACCESS_MANAGEMENT: OcsfClass = {
  uid: 3005, name: 'User Access Management', categoryUid: 3, categoryName: 'Identity & Access Management',
  activities: { 0: 'Unknown', 1: 'Assign Privileges', 2: 'Revoke Privileges', 99: 'Other' },
};

/** A policy bundle activated (live or shadow): a managed policy entity made active in the engine. */
export const ENTITY_MANAGEMENT: OcsfClass = {
  uid: 3004, name: 'Entity Management', categoryUid: 3, categoryName: 'Identity & Access Management',
  activities: { 0: 'Unknown', 1: 'Create', 2: 'Read', 3: 'Update', 4: 'Delete', 5: 'Move', 6: 'Enroll', 7: 'Unenroll', 8: 'Enable', 9: 'Disable', 10: 'Activate', 11: 'Deactivate', 12: 'Suspend', 13: 'Resume', 99: 'Other' },
};

/** For an event Portcullis does not know yet: kept whole under `unmapped`, never dropped. */
export const BASE_EVENT: OcsfClass = {
  uid: 0, name: 'Base Event', categoryUid: 0, categoryName: 'Uncategorized',
  activities: { 0: 'Unknown', 99: 'Other' },
};

export const SEVERITY = { 0: 'Unknown', 1: 'Informational', 2: 'Low', 3: 'Medium', 4: 'High', 5: 'Critical', 6: 'Fatal', 99: 'Other' } as const;
export type SeverityId = keyof typeof SEVERITY;

export const STATUS = { 0: 'Unknown', 1: 'Success', 2: 'Failure', 99: 'Other' } as const;
export type StatusId = keyof typeof STATUS;

/** security_control profile: what the control did. */
export const CONTROL_ACTION = { 0: 'Unknown', 1: 'Allowed', 2: 'Denied', 3: 'Observed', 4: 'Modified', 99: 'Other' } as const;
export type ControlActionId = keyof typeof CONTROL_ACTION;

/** security_control profile: the outcome (the subset Portcullis uses). */
export const DISPOSITION = { 0: 'Unknown', 1: 'Allowed', 2: 'Blocked', 8: 'Approved', 25: 'Rejected', 99: 'Other' } as const;
export type DispositionId = keyof typeof DISPOSITION;

/** user.type_id */
export const USER_TYPE = { 0: 'Unknown', 1: 'User', 2: 'Admin', 3: 'System', 4: 'Service', 99: 'Other' } as const;
export type UserTypeId = keyof typeof USER_TYPE;

/** The caption of an activity, or the source-specific name for 0/99 when one is given. */
export function activityName(ocsfClass: OcsfClass, activityId: number, otherName?: string): string {
  if ((activityId === ACTIVITY_OTHER || activityId === 0) && otherName) return otherName;
  return ocsfClass.activities[activityId] ?? 'Other';
}
