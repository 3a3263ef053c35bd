// Writes docs/openapi.json from the contract's schemas (npm run -w @portcullis/contract openapi).
import { writeFileSync } from 'node:fs';
import { OPENAPI_PATH, openApiText } from '../src/openapi/openapi-file.ts';

writeFileSync(OPENAPI_PATH, openApiText());
console.log(`wrote ${OPENAPI_PATH}`);
