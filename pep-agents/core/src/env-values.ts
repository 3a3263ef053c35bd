// Every PEP reads its PORTCULLIS_* settings as the PDP does: the readers live in the contract package, shared by both.
export { boolean, ConfigError, configFail, deepFreeze, envReader, integer, oneOf, optional, type EnvRead } from '@portcullis/contract/config-values';
