import { TameFlareError } from '@tameflare/contracts';

/** Why the recorder refused a message (stored with it in the rejected-messages table). */
export const RecorderErrorCode = {
  /** A valid event published on a subject other than its own: a confused producer. */
  SubjectMismatch: 'TF_ERR_RECORDER_SUBJECT_MISMATCH',
} as const;

export class RecorderError extends TameFlareError {}
