// Shared pieces of the widget's browser suite: a real feedbackd per test file, Debian's
// Chromium through playwright-core, and SQLite / blob look-ups from the service's side.

import { spawn, execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, '..', '..');
export const WIDGET_DIR = path.join(REPO, 'widget');
export const SCREENSHOTS = path.join(REPO, 'docs', 'screenshots');
export const BIN = path.resolve(HERE, process.env.FEEDBACKD_BIN || '../../target/debug/feedbackd');
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';

/** A valid 1×1 PNG (the service decides types by magic bytes, so it must be a real one). */
export const PNG = Buffer.from(
  'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==',
  'base64',
);
export const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');
export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The screen the browser reports (screen.width × screen.height), independent of the viewport. */
export const SCREEN = { width: 1366, height: 768 };
export const VIEWPORT = { width: 1280, height: 960 };

function need(file, what, hint) {
  if (!existsSync(file)) throw new Error(`${what} not found at ${file}: ${hint}`);
}

/** Fails with a clear message when one of the suite's tools is missing. */
export function checkPrerequisites() {
  need(BIN, 'the feedbackd binary', 'build it with `cargo build --bin feedbackd`, or set FEEDBACKD_BIN');
  need(CHROMIUM, 'Chromium', 'install it with `apt-get install -y chromium`, or set CHROMIUM_PATH');
  try {
    execFileSync('sqlite3', ['-version'], { stdio: 'pipe' });
  } catch {
    throw new Error('the sqlite3 CLI is missing: install it with `apt-get install -y sqlite3`');
  }
}

/**
 * Starts `feedbackd serve` in a fresh temporary data folder and resolves once it prints its
 * demo page URL. `origins` are the WebApp origins allowed by CORS; `env` adds or overrides
 * variables (a PostgreSQL `FEEDBACKD_DATABASE_URL`, say).
 */
export async function startService({ origins = [], env = {} } = {}) {
  checkPrerequisites();
  const dir = mkdtempSync(path.join(tmpdir(), 'feedbackd-e2e-'));
  const child = spawn(BIN, ['serve'], {
    cwd: dir,
    env: {
      ...process.env,
      FEEDBACKD_DATA_DIR: dir,
      FEEDBACKD_LISTEN: '127.0.0.1:0',
      FEEDBACKD_ADMIN_LISTEN: '127.0.0.1:0',
      FEEDBACKD_ALLOWED_ORIGINS: origins.join(','),
      FEEDBACKD_RATE_LIMIT_PER_MINUTE: '0',
      // The suites log in from 127.0.0.1 many times a minute.
      FEEDBACKD_LOGIN_ATTEMPTS_PER_MINUTE: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stderr.on('data', (d) => (err = (err + d).slice(-4000)));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail('did not print its demo page URL within 30 s'), 30000);
    function fail(why) {
      clearTimeout(timer);
      child.kill('SIGKILL');
      reject(new Error(`feedbackd (${BIN}) ${why}\nstdout:\n${out}\nstderr:\n${err}`));
    }
    child.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/feedbackd: demo page (http:\/\/127\.0\.0\.1:\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    child.on('error', (e) => fail(`could not start: ${e.message}`));
    child.on('exit', (code, sig) => fail(`exited early (code ${code}, signal ${sig})`));
  });
  child.removeAllListeners('exit');
  const exited = new Promise((r) => child.once('exit', r));
  return {
    url,
    dir,
    db: path.join(dir, 'feedbackd.db'),
    /**
     * Rows of a query, from the SQLite database the service writes. An acknowledged submission
     * waits in the intake inbox until the indexer moves it into the tables queried here (well
     * within a second: docs/ARCHITECTURE.md), so this waits for the inbox to drain first.
     */
    sql(query) {
      const run = (q) => {
        const json = execFileSync('sqlite3', ['-json', path.join(dir, 'feedbackd.db'), q], {
          encoding: 'utf8',
        });
        return json.trim() ? JSON.parse(json) : [];
      };
      const deadline = Date.now() + 5000;
      while (run('SELECT count(*) AS n FROM intake_inbox')[0].n > 0) {
        if (Date.now() > deadline) throw new Error('the intake inbox did not drain within 5 s');
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
      }
      return run(query);
    },
    blob(objectKey) {
      const file = path.join(dir, 'blobs', objectKey);
      return existsSync(file) && statSync(file).isFile() ? readFileSync(file) : null;
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exited;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function launchBrowser() {
  checkPrerequisites();
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
    ],
  });
}

/**
 * A fresh page that records what must never happen: CSP violations (both the DOM event and
 * Chromium's console report) and uncaught errors.
 */
export async function newPage(browser, service, contextOptions = {}) {
  const context = await browser.newContext({ viewport: VIEWPORT, screen: SCREEN, ...contextOptions });
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`),
    );
  });
  if (process.env.E2E_WIDGET_FROM_DISK === '1') await widgetFromDisk(context, service.url);
  const page = await context.newPage();
  const problems = [];
  page.on('console', (m) => {
    if (/Content Security Policy|Refused to/i.test(m.text())) problems.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));
  page.problems = async () => [
    ...problems,
    ...(await page.evaluate(() => window.__cspViolations || []).catch(() => [])),
  ];
  return page;
}

/**
 * Development aid only (E2E_WIDGET_FROM_DISK=1): serves widget/ (or E2E_WIDGET_DIR) from disk
 * in place of the copies compiled into the binary, keeping the service's headers (CSP included). The
 * "serves widget/ as on disk" test is never affected, so a stale binary still fails the suite.
 */
async function widgetFromDisk(context, serviceUrl) {
  const files = { '/': 'demo.html', '/widget/feedback.js': 'feedback.js', '/widget/demo.js': 'demo.js', '/widget/demo.css': 'demo.css' };
  await context.route(
    (u) => u.origin === serviceUrl && files[u.pathname] !== undefined,
    async (route) => {
      const response = await route.fetch();
      const file = files[new URL(route.request().url()).pathname];
      await route.fulfill({ response, body: readFileSync(path.join(process.env.E2E_WIDGET_DIR || WIDGET_DIR, file)) });
    },
  );
}

/** The widget's shadow-DOM dialog of one kind (Playwright's CSS locators pierce open shadow roots). */
export const dialog = (page, kind) => page.locator(`dialog[data-kind="${kind}"]`);

/** The element that has focus, looking through shadow roots; described for assertions. */
export function activeElement(page) {
  return page.evaluate(() => {
    let a = document.activeElement;
    let inWidget = false;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) {
      inWidget = inWidget || a.hasAttribute('data-feedback-widget');
      a = a.shadowRoot.activeElement;
    }
    const dlg = a && a.closest && a.closest('dialog');
    return {
      tag: a ? a.tagName.toLowerCase() : null,
      id: a ? a.id : null,
      type: a ? a.getAttribute('type') : null,
      text: a ? (a.textContent || '').trim() : null,
      open: a ? a.getAttribute('data-feedback-open') : null,
      inWidget,
      dialog: dlg ? dlg.getAttribute('data-kind') : null,
    };
  });
}

/**
 * Collects the POSTs the page makes to the feedback endpoint. They pass through a route that
 * lets them continue unchanged: only intercepted requests expose a multipart body with files.
 */
export async function recordPosts(page) {
  const posts = [];
  await page.route('**/api/v1/feedback', (route) => {
    if (route.request().method() === 'POST') posts.push(route.request());
    return route.continue();
  });
  return posts;
}

/** Waits for the confirmation of `kind` and returns the submission id it shows. */
export async function confirmationId(page, kind) {
  const done = dialog(page, kind).locator('.done');
  await done.waitFor({ state: 'visible', timeout: 15000 });
  const text = await done.innerText();
  const m = text.match(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/);
  if (!m) throw new Error(`the confirmation shows no submission id: ${JSON.stringify(text)}`);
  return m[0];
}
