// Every place a rendering of deploy/ (kustomize or Helm) names sidekick's own image: the
// containers of its Deployment, Jobs and CronJobs, the server's SIDEKICK_IMAGE, and the
// config-watcher template as that server loads it.
import { isObject, type Json, type JsonObject } from '../../src/json.js';
import { isTemplateFile, parseTemplateFiles } from '../../src/templates/load.js';

export interface ImageReference {
  where: string;
  image: string;
}

const text = (value: Json | undefined): string => (typeof value === 'string' ? value : '?');

function objectList(value: Json | undefined): JsonObject[] {
  return Array.isArray(value) ? value.filter(isObject) : [];
}

function podSpec(object: JsonObject): JsonObject | undefined {
  const spec = isObject(object.spec) ? object.spec : undefined;
  const template =
    object.kind === 'CronJob' && isObject(spec?.jobTemplate) && isObject(spec.jobTemplate.spec)
      ? spec.jobTemplate.spec.template
      : spec?.template;
  return isObject(template) && isObject(template.spec) ? template.spec : undefined;
}

export function sidekickImages(objects: readonly JsonObject[]): ImageReference[] {
  const found: ImageReference[] = [];
  let serverImage: string | undefined;
  for (const object of objects) {
    const name = isObject(object.metadata) ? text(object.metadata.name) : '?';
    const spec = podSpec(object);
    if (!spec) continue;
    for (const container of [...objectList(spec.initContainers), ...objectList(spec.containers)]) {
      const where = `${text(object.kind)} ${name} container ${text(container.name)}`;
      if (typeof container.image === 'string') found.push({ where, image: container.image });
      for (const env of objectList(container.env))
        if (env.name === 'SIDEKICK_IMAGE' && typeof env.value === 'string') {
          found.push({ where: `${where} env SIDEKICK_IMAGE`, image: env.value });
          serverImage = env.value;
        }
    }
  }
  const configMap = objects.find(
    (o) => o.kind === 'ConfigMap' && isObject(o.metadata) && o.metadata.name === 'sidekick-templates',
  );
  const data = configMap && isObject(configMap.data) ? configMap.data : {};
  const files = Object.entries(data)
    .filter(([key, value]) => isTemplateFile(key) && typeof value === 'string')
    .map(([key, value]) => ({ path: key, text: text(value) }));
  if (files.length > 0) {
    const load = parseTemplateFiles(
      files,
      'sidekick-templates',
      serverImage === undefined ? {} : { image: serverImage },
    );
    if (!load.ok) throw new Error(`the rendered templates are invalid: ${load.problems.join('; ')}`);
    const image = load.set.templates.get('config-watcher')?.container.image;
    if (typeof image === 'string') found.push({ where: 'config-watcher as the server loads it', image });
  }
  return found;
}
