/**
 * Version of the classification code. Recorded on every `ActionRequested` event so a decision
 * can be recomputed later with the same classifier. `classifier.version` appends a digest of
 * the generated route tables, which pins the provider descriptions too.
 */
export const CLASSIFIER_VERSION = '1.0.0';
