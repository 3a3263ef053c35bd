import { knownMembers, MEMBERS } from './known-members.ts';
import type { ResultValueMasking } from './result-value-masking.ts';
import { withheldContents, withheldTextBlock } from './withheld-content.ts';

type Json = Record<string, unknown>;

/**
 * One content block of a tool result or a prompt message, masked. Text goes through the value
 * masking; an embedded resource's text likewise; images, audio, blobs and kinds this gateway does
 * not know cannot be masked by a path or a detector, so they are withheld whenever the answer
 * carries a mask obligation (and pass as they are otherwise: the defence-in-depth detectors read
 * text only). A resource link is a name and a URI, whose contents are decided and masked when read.
 * Members MCP does not define for a block are dropped (known-members.ts). Undefined for a block
 * that is not an object with a type: the caller withholds the result.
 */
export function maskContentBlock(block: unknown, masking: ResultValueMasking, withObligations: boolean): unknown {
  if (!isObject(block) || typeof block.type !== 'string') return undefined;
  switch (block.type) {
    case 'text': {
      if (typeof block.text !== 'string') return undefined;
      const masked = masking.text(block.text);
      if ('text' in masked) return { ...knownMembers(block, MEMBERS.textBlock, masking), text: masked.text };
      masking.withheld();
      return withheldTextBlock('text that is not JSON', block);
    }
    case 'resource': {
      if (!isObject(block.resource)) return undefined;
      const resource = maskResourceContents(block.resource, masking, withObligations);
      if (resource === undefined) return undefined;
      return { ...knownMembers(block, MEMBERS.resourceBlock, masking), resource };
    }
    case 'resource_link':
      return knownMembers(block, MEMBERS.resourceLink, masking);
    case 'image':
    case 'audio':
      if (withObligations) return withheldBlock(block, masking);
      return knownMembers(block, MEMBERS.mediaBlock, masking);
    default:
      if (withObligations) return withheldBlock(block, masking);
      // A kind this gateway does not know, under the detectors alone: its strings scrubbed, its type kept.
      return { ...(masking.scrubValue(block) as Json), type: block.type };
  }
}

/**
 * One resource's contents (an item of a resources/read result, or an embedded resource): `text`
 * masked, `blob` withheld under obligations. The URI stays, so the client still knows what it
 * asked for. Undefined when it is neither.
 */
export function maskResourceContents(contents: Json, masking: ResultValueMasking, withObligations: boolean): Json | undefined {
  const known = knownMembers(contents, MEMBERS.resourceContents, masking);
  if (typeof contents.text === 'string') {
    const masked = masking.text(contents.text);
    if ('text' in masked) return { ...known, text: masked.text };
    masking.withheld();
    return withheldContents(known, 'text that is not JSON');
  }
  if (typeof contents.blob === 'string') {
    if (!withObligations) return known;
    masking.withheld();
    return withheldContents(known, 'binary content');
  }
  return undefined;
}

function withheldBlock(block: Json, masking: ResultValueMasking): Json {
  masking.withheld();
  return withheldTextBlock(`${kindName(String(block.type))} content`, block);
}

function kindName(type: string): string {
  return /^[a-z_]{1,32}$/.test(type) ? type : 'unknown';
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
