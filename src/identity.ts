import { readFileSync } from 'node:fs';

/** The npm package; `sidekick` alone on the registry is someone else's (SPEC 1). */
export const PACKAGE_NAME = '@sidekick-dev/sidekick';
export const IMAGE_REPOSITORY = 'ghcr.io/sidekick-dev/sidekick';

function packageVersion(): string {
  // package.json sits beside dist/ (and templates/) in the checkout, the package and the image.
  const text = readFileSync(new URL('../../package.json', import.meta.url), 'utf8');
  const parsed: unknown = JSON.parse(text);
  const version =
    typeof parsed === 'object' && parsed !== null ? (parsed as { version?: unknown }).version : undefined;
  return typeof version === 'string' ? version : 'unknown';
}

export const VERSION = packageVersion();

/** The one image every sidekick process runs from, unless `--image` names another. */
export const DEFAULT_IMAGE = `${IMAGE_REPOSITORY}:${VERSION}`;
