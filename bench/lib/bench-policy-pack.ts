import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { REPOSITORY_ROOT } from '../../test/support/repository-root.ts';

export interface BenchResource {
  readonly name: string;
  readonly type: string;
  readonly environment: string;
}

/**
 * A copy of the starter pack (its Rego and data, no tests) into `dir`, whose data knows one more
 * resource: the bench's own, so the starter pack itself stays as it is. Returns the folder to
 * give the PDP as PORTCULLIS_POLICY_DIR.
 */
export function writeBenchPolicyPack(dir: string, resource: BenchResource): string {
  const source = join(REPOSITORY_ROOT, 'policies/portcullis');
  const target = join(dir, 'portcullis');
  mkdirSync(target, { recursive: true });
  for (const name of readdirSync(source)) {
    if (name.endsWith('.rego') && !name.endsWith('_test.rego')) copyFileSync(join(source, name), join(target, name));
  }
  const data = JSON.parse(readFileSync(join(source, 'data.json'), 'utf8')) as { resources: Record<string, unknown> };
  data.resources[resource.name] = { type: resource.type, environment: resource.environment };
  writeFileSync(join(target, 'data.json'), `${JSON.stringify(data, null, 2)}\n`);
  return dir;
}
