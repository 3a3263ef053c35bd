import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../../test/support/repository-root.ts';

export interface BenchResource {
  readonly name: string;
  readonly type: string;
  readonly environment: string;
}

/**
 * A copy of the starter pack (its Rego and data, no tests) into `dir`, whose data knows the bench's
 * own resources too, so the starter pack itself stays as it is. Returns the folder to give the PDP
 * as PORTCULLIS_POLICY_DIR.
 */
export function writeBenchPolicyPack(dir: string, ...resources: BenchResource[]): string {
  const source = join(REPOSITORY_ROOT, 'policies/portcullis');
  const target = join(dir, 'portcullis');
  // The whole tree (sub-packages' data such as the reviewed-calls catalog too), without the tests.
  cpSync(source, target, { recursive: true, filter: (path) => !path.endsWith('_test.rego') });
  const data = JSON.parse(readFileSync(join(target, 'data.json'), 'utf8')) as { resources: Record<string, unknown> };
  for (const resource of resources) data.resources[resource.name] = { type: resource.type, environment: resource.environment };
  writeFileSync(join(target, 'data.json'), `${JSON.stringify(data, null, 2)}\n`);
  return dir;
}
