// The widget embedded in a WebApp on another origin, under a strict host CSP (no inline
// script or style, Trusted Types required): it must work without a single violation, talk to
// the service only, send no cookies, and be refused by CORS on an origin the service does not allow.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { PNG, UUID, confirmationId, dialog, launchBrowser, newPage, recordPosts, sha256, startService } from './helpers.mjs';

let svc;
let browser;
let host;
let hostOrigin;

const hostCsp = () =>
  `default-src 'none'; script-src 'self' ${svc.url}; style-src 'self'; connect-src ${svc.url}; ` +
  "img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; " +
  "require-trusted-types-for 'script'; trusted-types 'none'";

const PAGE = () => `<!doctype html>
<html lang="de">
<head>
<meta charset="utf-8">
<title>WebApp</title>
<link rel="stylesheet" href="/app/host.css">
<script src="${svc.url}/widget/feedback.js" data-service="${svc.url}" defer></script>
<script src="/app/host.js" defer></script>
</head>
<body>
<h1>WebApp</h1>
<nav aria-label="Hilfe">
<button type="button" data-feedback-open="bug">Fehler melden</button>
<button type="button" data-feedback-open="feature">Idee</button>
<button type="button" data-feedback-open="feedback">Feedback?</button>
</nav>
</body>
</html>`;

const FILES = {
  '/app/inbox': ['text/html; charset=utf-8', PAGE],
  '/app/host.js': [
    'text/javascript',
    () => "FeedbackWidget.init({ webappVersion: '7.0.1', serverVersion: '7.0.0-srv', floatingButton: true });\n",
  ],
  '/app/host.css': ['text/css', () => 'body { font-family: serif; color: #300; } button { all: unset; }\n'],
};

before(async () => {
  // The host page's server first: the service must know its origin to allow it (CORS).
  host = http.createServer((req, res) => {
    const file = FILES[new URL(req.url, 'http://x').pathname];
    if (!file) return res.writeHead(404).end();
    res.writeHead(200, { 'content-type': file[0], 'content-security-policy': hostCsp() });
    res.end(file[1]());
  });
  await new Promise((r) => host.listen(0, '127.0.0.1', r));
  hostOrigin = `http://127.0.0.1:${host.address().port}`;
  svc = await startService({ origins: [hostOrigin] });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await svc?.stop();
  await new Promise((r) => (host ? host.close(r) : r()));
});

test('on another origin under a strict CSP: both kinds of POST work, with no violation, no cookie, no other host', async () => {
  const page = await newPage(browser, svc);
  // A cookie of the host's domain (cookies ignore ports): the widget must never send it.
  await page.context().addCookies([{ name: 'webapp_session', value: 'secret', domain: '127.0.0.1', path: '/' }]);
  const origins = new Set();
  const withCookie = [];
  page.on('request', async (r) => {
    origins.add(new URL(r.url()).origin);
    // (The host's own <script src> may carry cookies, as any classic script does; the widget's calls must not.)
    if (r.url().startsWith(`${svc.url}/api/`) && (await r.allHeaders()).cookie) withCookie.push(r.url());
  });
  const posts = await recordPosts(page);
  const terms = await (await fetch(`${svc.url}/api/v1/terms`)).json();

  await page.goto(`${hostOrigin}/app/inbox?folder=private&token=abc#top`);
  // The host's CSS does not leak into the widget (shadow DOM): its buttons keep their look.
  await page.locator('button[data-feedback-open="bug"]').click();
  const d = dialog(page, 'bug');
  await d.waitFor({ state: 'visible' });
  assert.equal((await d.locator('h2').innerText()).trim(), 'Fehler melden', 'German, from <html lang="de">');
  assert.notEqual(await d.locator('button[type=submit]').evaluate((b) => getComputedStyle(b).cursor), 'auto');
  assert.equal(
    await d.locator('button[type=submit]').evaluate((b) => getComputedStyle(b).backgroundColor),
    'rgb(31, 95, 191)',
    'the widget’s constructed stylesheet applies under style-src self',
  );
  await d.locator(`#fw-bug-terms`).filter({ hasText: terms.version }).waitFor();
  await d.locator('#fw-bug-summary').fill('Kalender lädt nicht');
  await d.locator('textarea').fill('Seit dem Update bleibt der Kalender leer.');
  await d.locator('input[type=file]').setInputFiles({ name: 'kalender.png', mimeType: 'image/png', buffer: PNG });
  await d.locator('#fw-bug-contact_email').fill('nutzer@example.org');
  await d.locator('button[type=submit]').click();
  const bugId = await confirmationId(page, 'bug');
  assert.match(await d.locator('.done').innerText(), /Vielen Dank!/);

  // The floating button, and a JSON POST (no file).
  await d.locator('.done button.primary').click();
  await page.locator('[data-feedback-widget] button.fab').click();
  const f = dialog(page, 'feedback');
  await f.locator('input[name=rating][value="5"]').check();
  await f.locator('textarea').fill('Sehr gut.');
  await f.locator('button[type=submit]').click();
  const feedbackId = await confirmationId(page, 'feedback');

  assert.equal(posts.length, 2);
  assert.match(posts[0].headers()['content-type'], /^multipart\/form-data/);
  assert.match(posts[1].headers()['content-type'], /^application\/json/);
  assert.deepEqual(Object.keys(JSON.parse(posts[1].postData())).sort(), [
    'button', 'form_ms', 'kind', 'message', 'rating', 'screen_resolution', 'server_version', 'terms_accepted',
    'terms_version', 'url', 'webapp_version',
  ]);
  assert.deepEqual(withCookie, [], 'no API request carried a cookie');
  assert.deepEqual([...origins].sort(), [hostOrigin, svc.url].sort(), 'only the host page and the service were contacted');

  for (const [id, kind, button] of [[bugId, 'bug', 'submit'], [feedbackId, 'feedback', 'send']]) {
    assert.match(id, UUID);
    const [row] = svc.sql(`SELECT * FROM submissions WHERE id = '${id}'`);
    assert.equal(row.kind, kind);
    assert.equal(row.page_url, `${hostOrigin}/app/inbox`, 'the host page URL, without query and fragment');
    assert.equal(row.webapp_version, '7.0.1', 'versions from the init call');
    assert.equal(row.server_version, '7.0.0-srv');
    const [t] = svc.sql(`SELECT * FROM terms_acceptances WHERE submission_id = '${id}'`);
    assert.deepEqual([t.terms_version, t.terms_sha256, t.widget, t.button], [terms.version, terms.sha256, kind, button]);
  }
  const [a] = svc.sql(`SELECT * FROM attachments WHERE submission_id = '${bugId}'`);
  assert.equal(a.sha256, sha256(PNG));
  assert.equal(sha256(svc.blob(a.object_key)), sha256(PNG));
  assert.equal(svc.sql(`SELECT count(*) AS n FROM contacts WHERE submission_id = '${bugId}'`)[0].n, 1);
  assert.equal(svc.sql(`SELECT rating FROM submissions WHERE id = '${feedbackId}'`)[0].rating, 5);

  assert.deepEqual(await page.problems(), [], 'no CSP violation and no uncaught error');
  await page.context().close();
});

test('on an origin the service does not allow, CORS stops the widget and it says so; nothing is stored', async () => {
  const page = await newPage(browser, svc);
  const before = svc.sql('SELECT count(*) AS n FROM submissions')[0].n;
  const port = new URL(hostOrigin).port;
  await page.goto(`http://localhost:${port}/app/inbox`);
  await page.locator('button[data-feedback-open="feature"]').click();
  const d = dialog(page, 'feature');
  await d.locator('#fw-feature-terms').filter({ hasText: 'konnten nicht geladen werden' }).waitFor();
  await d.locator('textarea').fill('Von einer fremden Seite.');
  await d.locator('button[type=submit]').click();
  await d.locator('[role=alert]').filter({ hasText: 'konnten nicht geladen werden' }).waitFor();
  assert.equal(svc.sql('SELECT count(*) AS n FROM submissions')[0].n, before);
  assert.deepEqual(await page.problems(), []);
  await page.context().close();
});
