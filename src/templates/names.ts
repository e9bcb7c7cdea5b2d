/** DNS-1123 label: container, volume and template names. */
export const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const PARAMETER_NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** `{{ name }}` with optional spaces. */
export const PLACEHOLDER = /\{\{\s*([a-z][a-z0-9-]*)\s*\}\}/g;

/** Parameters every template has without declaring them. */
export const BUILTIN_AFTER = 'after';
export const BUILTIN_CONTAINERS = 'containers';

/** Prefix of the Pod volumes a template adds. */
export function podVolumeName(template: string, volume: string): string {
  return `sidekick-${template}-${volume}`;
}
