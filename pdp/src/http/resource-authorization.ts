import type { CallingPep } from '../decisions/policy-input.ts';
import { PortcullisError } from '../errors/portcullis-error.ts';
import type { ResourceRef } from '../identity/resource-binding.ts';

/** Refuses (403 `forbidden`, naming the resource) a request about a resource the calling PEP's credential does not front. */
export function assertFronts(caller: CallingPep, resource: ResourceRef, where?: string): void {
  if (caller.resources.fronts(resource)) return;
  throw new PortcullisError('forbidden', `this PEP credential (${caller.sub}) does not front ${resource.type} ${resource.name}`, {
    resource: { type: resource.type, name: resource.name },
    ...(where === undefined ? {} : { field: where }),
  });
}
