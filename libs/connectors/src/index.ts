export { createClassifier, DEFAULT_BODY_PARSE_LIMIT, type ClassifierOptions } from './create-classifier.ts';
export { CLASSIFIER_VERSION } from './version.ts';
export type { Classifier, ClassifyInput, ConnectorInfo } from './types.ts';
export { CONNECTOR_KINDS, normalizeConnector, type ConnectorDefinition, type ConnectorKind, type NormalizedConnector } from './config/connector-config.ts';
export { loadConnectorConfig, parseConnectorConfig } from './config/load-connector-config.ts';
export type { CustomRoute } from './providers/custom.ts';
export { ConnectorConfigError, ConnectorsNotBuiltError, ConnectorErrorCode } from './errors.ts';
export { MAX_PARAMS, MAX_PARAM_STRING } from './params.ts';
