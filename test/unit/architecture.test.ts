import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

/**
 * The layers of docs/architecture.md, read from the imports of src/: who may import whom, no
 * import cycles (type-only imports included), and git started from src/git/ alone.
 */
const SRC = path.resolve(import.meta.dirname, '..', '..', 'src');

interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
  dynamic: boolean;
  /** The names imported (`{ a, type b }`), empty for a default or namespace import. */
  names: string[];
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : full.endsWith('.ts') ? [full] : [];
  });
}

const FILES = sources(SRC).map((f) => path.relative(SRC, f));

function importsOf(file: string): Import[] {
  const text = readFileSync(path.join(SRC, file), 'utf8');
  const found: Import[] = [];
  const resolve = (spec: string) => path.posix.join(path.posix.dirname(file), spec).replace(/\.js$/, '.ts');
  for (const m of text.matchAll(/^(import|export)\s+(type\s+)?([^;]*?)\sfrom\s+'(\.[^']+)'/gms)) {
    const names =
      /\{([^}]*)\}/
        .exec(m[3]!)?.[1]
        ?.split(',')
        .map((n) => n.trim().replace(/^type\s+/, '')) ?? [];
    found.push({
      from: file,
      to: resolve(m[4]!),
      typeOnly: !!m[2],
      dynamic: false,
      names: names.filter(Boolean),
    });
  }
  for (const m of text.matchAll(/import\('(\.[^']+)'\)/g))
    found.push({ from: file, to: resolve(m[1]!), typeOnly: false, dynamic: true, names: [] });
  return found;
}

const IMPORTS = FILES.flatMap(importsOf);
const layerOf = (file: string) => (file.includes('/') ? file.split('/')[0]! : 'entry');
const ENTRY = new Set(['entry', 'commands', 'hooks', 'claude', 'mcp', 'ci', 'demo']);

/**
 * What each layer may import (besides itself); analysis and render read the records and the
 * services' data as types only.
 */
const MAY: Record<string, string[]> = {
  core: [],
  git: ['core'],
  analysis: ['core'],
  store: ['core', 'git', 'analysis'],
  context: ['core', 'git', 'analysis', 'store'],
  render: ['core', 'analysis'],
  services: ['core', 'git', 'analysis', 'store', 'context', 'render'],
};
const TYPES_FROM: Record<string, string[]> = {
  analysis: ['store'],
  render: ['services', 'store', 'context', 'git'],
};

test('every import points at a file that exists', () => {
  for (const i of IMPORTS) assert.ok(FILES.includes(i.to), `${i.from} imports ${i.to}`);
});

test('each layer imports only the layers below it (docs/architecture.md)', () => {
  const wrong: string[] = [];
  for (const i of IMPORTS) {
    const from = layerOf(i.from);
    const to = layerOf(i.to);
    if (from === to) continue;
    if (ENTRY.has(from)) {
      // Entry points call everything below; only the dispatcher loads commands.
      if (to === 'commands' && from !== 'entry') wrong.push(`${i.from} -> ${i.to}`);
      continue;
    }
    const allowed = MAY[from] ?? [];
    if (allowed.includes(to)) continue;
    if (i.typeOnly && (TYPES_FROM[from] ?? []).includes(to)) continue;
    wrong.push(`${i.from} -> ${i.to}`);
  }
  assert.equal(wrong, []);
});

test('analysis is pure: no file system, no processes', () => {
  for (const file of FILES.filter((f) => f.startsWith('analysis/'))) {
    const text = readFileSync(path.join(SRC, file), 'utf8');
    assert.not.match(text, /from 'node:(fs|child_process)'/, file);
  }
});

test('no import cycles, type-only imports included', () => {
  const graph = new Map<string, string[]>();
  for (const i of IMPORTS.filter((x) => !x.dynamic)) graph.set(i.from, [...(graph.get(i.from) ?? []), i.to]);
  const cycles: string[] = [];
  const done = new Set<string>();
  const stack: string[] = [];
  const visit = (file: string) => {
    if (stack.includes(file)) {
      cycles.push([...stack.slice(stack.indexOf(file)), file].join(' -> '));
      return;
    }
    if (done.has(file)) return;
    stack.push(file);
    for (const next of graph.get(file) ?? []) visit(next);
    stack.pop();
    done.add(file);
  };
  for (const file of FILES) visit(file);
  assert.equal(cycles, []);
});

test('git is started from src/git/ alone: every other file calls its named operations', () => {
  const raw = (i: Import) => i.names.some((n) => ['git', 'gitOut', 'gitNetwork', 'gitAsync'].includes(n));
  const callers = [
    ...new Set(
      IMPORTS.filter((i) => i.to === 'git/run.ts' && !i.from.startsWith('git/') && raw(i)).map((i) => i.from),
    ),
  ].sort();
  assert.equal(callers, [], 'files outside src/git/ that call the raw runner (git, gitOut, gitNetwork)');
  // The sandboxes of the demo and the tests run git as another machine's user: gitAs, there only.
  const sandbox = IMPORTS.filter((i) => i.names.some((n) => n === 'gitAs' || n === 'gitAsChild'));
  assert.equal([...new Set(sandbox.map((i) => i.from))], ['demo/world.ts']);
  for (const file of FILES.filter((f) => !f.startsWith('git/') && f !== 'core/process.ts')) {
    const text = readFileSync(path.join(SRC, file), 'utf8');
    assert.not.match(
      text,
      /\b(spawn(Sync)?|runBounded|execFile(Sync)?)\(\s*['"`]git['"`]/,
      `${file} starts git itself`,
    );
  }
});

test('each well-kept library stays where its layer is: simple-git in git/, Octokit and @actions in ci/', () => {
  const packages = new Map<string, string[]>();
  for (const file of FILES) {
    const text = readFileSync(path.join(SRC, file), 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\()'((?:@[^'/]+\/)?[^'./][^']*)'/g))
      packages.set(m[1]!, [...(packages.get(m[1]!) ?? []), file]);
  }
  const where = (name: RegExp) => [...packages].filter(([p]) => name.test(p)).flatMap(([, files]) => files);
  assert.ok(
    where(/^simple-git$/).every((f) => f === 'git/engine.ts'),
    where(/^simple-git$/).join(', '),
  );
  assert.ok(
    where(/^@(octokit|actions)\//).every((f) => f.startsWith('ci/')),
    where(/^@(octokit|actions)\//).join(', '),
  );
  assert.ok(where(/^@modelcontextprotocol\//).every((f) => f.startsWith('mcp/')));
});

test.run();
