import { existsSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import type { CommandIo } from './command.js';
import { UsageError } from './options.js';

/** The kubeconfig from the handed-in environment, not process.env. */
export function loadKubeConfig(
  explicit: string | undefined,
  env: CommandIo['env'],
  offline = '',
): KubeConfig {
  const kc = new KubeConfig();
  const fromEnv = env.KUBECONFIG?.split(delimiter).find((path) => path !== '');
  const home = env.HOME ?? env.USERPROFILE;
  const homeConfig = home === undefined ? undefined : join(home, '.kube', 'config');
  if (explicit !== undefined) kc.loadFromFile(explicit);
  else if (fromEnv !== undefined) kc.loadFromFile(fromEnv);
  else if (env.KUBERNETES_SERVICE_HOST !== undefined) kc.loadFromCluster();
  else if (homeConfig !== undefined && existsSync(homeConfig)) kc.loadFromFile(homeConfig);
  else throw new UsageError(`no kubeconfig: use --kubeconfig, set KUBECONFIG, or run in a cluster${offline}`);
  return kc;
}
