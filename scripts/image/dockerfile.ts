// Reads the final stage of a Dockerfile into what an image builder needs: the files to copy and
// the image configuration. Only the instructions a FROM scratch stage can hold are understood;
// anything else is an error, so that the Dockerfile and `npm run image` cannot drift apart.

export interface CopyStep {
  /** The stage the files come from, or undefined for the build context. */
  from: string | undefined;
  sources: string[];
  destination: string;
}

export interface FinalStage {
  base: string;
  /** Default values of the ARGs declared before the first FROM. */
  args: Record<string, string>;
  copies: CopyStep[];
  env: Record<string, string>;
  workdir: string;
  user: string;
  exposed: string[];
  labels: Record<string, string>;
  entrypoint: string[];
  cmd: string[];
}

interface Instruction {
  line: number;
  keyword: string;
  rest: string;
}

function instructions(text: string): Instruction[] {
  const out: Instruction[] = [];
  let pending = '';
  let start = 0;
  text.split('\n').forEach((raw, index) => {
    const line = raw.trimEnd();
    if (pending === '' && (line.trim() === '' || line.trimStart().startsWith('#'))) return;
    if (pending === '') start = index + 1;
    if (line.endsWith('\\')) {
      pending += `${line.slice(0, -1)} `;
      return;
    }
    const whole = (pending + line).trim();
    pending = '';
    const match = /^(\S+)\s*(.*)$/.exec(whole);
    if (match?.[1] !== undefined)
      out.push({ line: start, keyword: match[1].toUpperCase(), rest: match[2] ?? '' });
  });
  return out;
}

/** `k=v k2="v 2"` pairs, as ENV and LABEL take them. */
function pairs(rest: string, where: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([A-Za-z0-9_.-]+)=("(?:[^"\\]|\\.)*"|\S+)\s*/gy;
  let match: RegExpExecArray | null;
  let consumed = 0;
  while ((match = re.exec(rest)) !== null) {
    const value = match[2] ?? '';
    out[match[1] ?? ''] = value.startsWith('"') ? (JSON.parse(value) as string) : value;
    consumed = re.lastIndex;
  }
  if (consumed !== rest.length) throw new Error(`${where}: expected key=value pairs, got "${rest}"`);
  return out;
}

function execForm(rest: string, where: string): string[] {
  let value: unknown;
  try {
    value = JSON.parse(rest);
  } catch {
    value = undefined;
  }
  if (!Array.isArray(value) || !value.every((item) => typeof item === 'string'))
    throw new Error(`${where}: expected the exec form, a JSON list of strings`);
  return value;
}

function substitute(text: string, args: Record<string, string>, where: string): string {
  return text.replace(
    /\$\{([A-Za-z_][A-Za-z0-9_]*)\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (_, a?: string, b?: string) => {
      const name = a ?? b ?? '';
      const value = args[name];
      if (value === undefined) throw new Error(`${where}: ARG ${name} has no default`);
      return value;
    },
  );
}

function copyStep(rest: string, where: string): CopyStep {
  const words = rest.split(/\s+/).filter((w) => w !== '');
  let from: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift() ?? '';
    const fromFlag = /^--from=(.+)$/.exec(flag);
    if (!fromFlag) throw new Error(`${where}: COPY ${flag} is not understood`);
    from = fromFlag[1];
  }
  const destination = words.pop();
  if (destination === undefined || words.length === 0)
    throw new Error(`${where}: COPY needs a source and a destination`);
  if (words.length > 1 && !destination.endsWith('/'))
    throw new Error(`${where}: COPY of several sources needs a destination ending in /`);
  return { from, sources: words, destination };
}

/** The final stage of `text` (the Dockerfile's contents); `path` only names it in errors. */
export function readFinalStage(text: string, path = 'Dockerfile'): FinalStage {
  const all = instructions(text);
  const args: Record<string, string> = {};
  const firstFrom = all.findIndex((i) => i.keyword === 'FROM');
  for (const i of all.slice(0, firstFrom)) {
    if (i.keyword !== 'ARG') continue;
    const [name, value] = i.rest.split('=', 2);
    if (name !== undefined && value !== undefined) args[name.trim()] = value.trim();
  }
  const lastFrom = all.map((i) => i.keyword).lastIndexOf('FROM');
  if (lastFrom < 0) throw new Error(`${path}: no FROM`);
  const stage: FinalStage = {
    base: substitute(all[lastFrom]?.rest ?? '', args, path).split(/\s+/)[0] ?? '',
    args,
    copies: [],
    env: {},
    workdir: '/',
    user: '',
    exposed: [],
    labels: {},
    entrypoint: [],
    cmd: [],
  };
  for (const i of all.slice(lastFrom + 1)) applyInstruction(stage, i, `${path}:${String(i.line)}`);
  return stage;
}

function applyInstruction(stage: FinalStage, i: Instruction, where: string): void {
  switch (i.keyword) {
    case 'COPY':
      stage.copies.push(copyStep(i.rest, where));
      return;
    case 'ENV':
      Object.assign(stage.env, pairs(i.rest, where));
      return;
    case 'LABEL':
      Object.assign(stage.labels, pairs(i.rest, where));
      return;
    case 'WORKDIR':
      stage.workdir = i.rest.trim();
      return;
    case 'USER':
      stage.user = i.rest.trim();
      return;
    case 'EXPOSE':
      stage.exposed.push(...i.rest.split(/\s+/).filter((p) => p !== ''));
      return;
    case 'ENTRYPOINT':
      stage.entrypoint = execForm(i.rest, where);
      return;
    case 'CMD':
      stage.cmd = execForm(i.rest, where);
      return;
    default:
      throw new Error(`${where}: ${i.keyword} in the final stage is not something the image builder can do`);
  }
}
