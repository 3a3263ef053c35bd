/** The methods whose results carry data a mask can apply to; any other method's answer must carry no mask. */
export const MASKABLE_METHODS = ['tools/call', 'resources/read', 'prompts/get'] as const;
export type MaskableMethod = (typeof MASKABLE_METHODS)[number];

export function isMaskableMethod(method: string): method is MaskableMethod {
  return (MASKABLE_METHODS as readonly string[]).includes(method);
}
