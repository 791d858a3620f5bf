// The triage view in a real browser: a triager logs in, filters the queue by version and
// browser, opens a submission, changes its status, downloads its file, adds a note; hostile
// text in a submission is shown as text and runs nothing. On SQLite, and on PostgreSQL when
// FEEDBACKD_TEST_DATABASE_URL names a server (a fresh database per run).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

import { BIN, PNG, SCREENSHOTS, launchBrowser, newPage, startService } from './helpers.mjs';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on the page (run through DevTools, outside the CSP). */
async function seriousViolations(page) {
  const results = await page.evaluate(`${AXE_SOURCE}; axe.run(document, { resultTypes: ['violations'] })`);
  return results.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id}: ${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join(', ')}`);
}

const FIREFOX = 'Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0';
const PASSWORD = 'a long triage password';
const XSS_SUMMARY = '<img src=x onerror="window.__xss=1">';
const XSS_MESSAGE = '<script>window.__xss=2</script> <img src=x onerror=window.__xss=3> javascript:window.__xss=4';

let service;
let browser;
let pgServer;
let pgDatabase;
const ids = {};

function freshPostgresDatabase() {
  pgServer = process.env.FEEDBACKD_TEST_DATABASE_URL?.replace(/\/$/, '');
  if (!pgServer) return {};
  pgDatabase = `feedbackd_e2e_${randomUUID().replaceAll('-', '')}`;
  execFileSync('psql', [`${pgServer}/postgres`, '-qc', `CREATE DATABASE ${pgDatabase}`]);
  return { FEEDBACKD_DATABASE_URL: `${pgServer}/${pgDatabase}` };
}

async function submit(fields, file) {
  const terms = await (await fetch(`${service.url}/api/v1/terms`)).json();
  const form = new FormData();
  const base = {
    webapp_version: '6.4.2', server_version: '9.1.0', screen_resolution: '1920x1080',
    url: 'https://mail.example.org/app', terms_version: terms.version, terms_accepted: 'true',
  };
  for (const [k, v] of Object.entries({ ...base, ...fields })) form.append(k, v);
  if (file) form.append('attachment', new Blob([file]), 'screen.png');
  const response = await fetch(`${service.url}/api/v1/feedback`, {
    method: 'POST', body: form, headers: { 'user-agent': FIREFOX },
  });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()).id;
}

before(async () => {
  const env = freshPostgresDatabase();
  service = await startService({ env });
  const added = spawnSync(BIN, ['user', 'add', 'tina', '--role', 'triager'], {
    input: `${PASSWORD}\n`,
    env: { ...process.env, ...env, FEEDBACKD_DATA_DIR: service.dir },
    encoding: 'utf8',
  });
  assert.equal(added.status, 0, added.stderr);
  ids.bug = await submit({ kind: 'bug', summary: 'Drafts lose their attachment', message: 'Saved a draft with a PDF; the PDF is gone.', webapp_version: '7.2.0' }, PNG);
  ids.xss = await submit({ kind: 'bug', summary: XSS_SUMMARY, message: XSS_MESSAGE });
  ids.idea = await submit({ kind: 'feature', summary: 'Dark mode', message: 'Please add a dark theme.' });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await service?.stop();
  if (pgDatabase) execFileSync('psql', [`${pgServer}/postgres`, '-qc', `DROP DATABASE IF EXISTS ${pgDatabase} WITH (FORCE)`]);
});

async function loggedIn(contextOptions = {}) {
  const page = await newPage(browser, service, contextOptions);
  page.on('dialog', (d) => { page.dialogs = (page.dialogs || 0) + 1; d.dismiss(); });
  await page.goto(`${service.url}/triage`);
  assert.match(page.url(), /\/triage\/login$/, 'without a session the login is shown');
  await page.getByLabel('Name').fill('tina');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${service.url}/triage`);
  return page;
}

test('a triager finds a submission by version and browser, works it, downloads its file', async () => {
  const page = await loggedIn();
  await page.locator('summary', { hasText: 'Filters' }).click();
  await page.getByLabel('WebApp version').fill('7.2.0');
  await page.getByLabel('Browser').fill('Firefox');
  await page.getByRole('button', { name: 'Filter' }).click();
  await page.waitForURL(/webapp_version=7\.2\.0/);
  const rows = page.locator('table.queue tbody tr');
  assert.equal(await rows.count(), 1);
  assert.match(await rows.first().innerText(), /Drafts lose their attachment/);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'triage-queue.png') });

  await page.getByRole('link', { name: 'Drafts lose their attachment' }).click();
  await page.waitForURL(`${service.url}/triage/feedback/${ids.bug}?browser=Firefox&webapp_version=7.2.0`);
  assert.match(await page.locator('.message').first().innerText(), /the PDF is gone/);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('link', { name: 'screen.png' }).click(),
  ]);
  assert.equal(download.suggestedFilename(), 'screen.png');
  assert.deepEqual(readFileSync(await download.path()), PNG, 'the stored bytes come back');

  await page.getByLabel('Status').selectOption('in_progress');
  await page.getByLabel('Assignee').selectOption('tina');
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await page.waitForURL(/notice=Saved/);
  assert.equal(await page.locator('.meta .status').innerText(), 'In progress');

  await page.getByLabel('Add a private note').fill('Reproduced on staging with a 2 MB PDF.');
  await page.getByRole('button', { name: 'Add note' }).click();
  await page.waitForURL(/notice=Note/);
  assert.match(await page.locator('article.note').innerText(), /Reproduced on staging/);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'triage-detail.png'), fullPage: true });

  await page.goto(`${service.url}/triage?status=in_progress`);
  assert.equal(await page.locator('table.queue tbody tr').count(), 1);
  assert.deepEqual(await page.problems(), []);
});

test('hostile text is shown as text and runs nothing', async () => {
  const page = await loggedIn();
  await page.goto(`${service.url}/triage/feedback/${ids.xss}`);
  assert.equal(await page.locator('h1').innerText(), XSS_SUMMARY, 'the summary is text');
  assert.equal(await page.locator('.message').first().innerText(), XSS_MESSAGE, 'the message is text');
  assert.equal(await page.locator('main img').count(), 0, 'no image element was injected');
  assert.equal(await page.locator('main script').count(), 0, 'no script element was injected');
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'nothing ran');
  await page.goto(`${service.url}/triage`);
  assert.equal(await page.evaluate(() => window.__xss), undefined, 'nothing ran in the queue either');
  assert.equal(page.dialogs || 0, 0);
  assert.deepEqual(await page.problems(), [], 'and nothing even tried (no CSP report)');
});

test('the triage loop: inbox, read, save & next, two bulk changes in a row, a chip, back', async () => {
  const older = await submit({ kind: 'feedback', message: 'Loop one', rating: '4' });
  const newer = await submit({ kind: 'feedback', message: 'Loop two', rating: '4' });
  const page = await loggedIn();
  assert.match(await page.locator('h1').innerText(), /^Inbox/);
  await page.getByRole('link', { name: 'Loop two' }).click();
  await page.waitForURL(new RegExp(`/triage/feedback/${newer}$`));
  await page.getByLabel('Status').selectOption('triaged');
  await page.getByRole('button', { name: 'Save & next' }).click();
  await page.waitForURL(new RegExp(`/triage/feedback/${older}\\?notice=Saved`));
  assert.match(await page.locator('.message').first().innerText(), /Loop one/);
  await page.getByRole('link', { name: '← Back to the queue' }).click();
  await page.waitForURL(`${service.url}/triage`);
  assert.equal(await page.getByRole('link', { name: 'Loop two' }).count(), 0, 'the triaged one left the inbox');

  for (const label of ['loop', 'twice']) {
    await page.locator(`input[name=ids][value="${older}"]`).check();
    await page.locator('fieldset.bulk').getByLabel('Add label').fill(label);
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/notice=Updated/);
    assert.match(await page.locator('.notice').innerText(), /Updated 1 submission/);
  }
  await page.locator('table.queue a.chip.label', { hasText: 'twice' }).first().click();
  await page.waitForURL(/\/triage\?label=twice$/);
  assert.equal(await page.locator('table.queue tbody tr').count(), 1);
  await page.getByRole('link', { name: 'Loop one' }).click();
  await page.getByRole('link', { name: '← Back to the queue' }).click();
  await page.waitForURL(/\/triage\?label=twice$/);

  await page.getByRole('link', { name: 'Trends' }).click();
  await page.waitForURL(/\/triage\/trends$/);
  assert.match(await page.locator('h1').innerText(), /^Trends/);
  await page.screenshot({ path: path.join(SCREENSHOTS, 'triage-trends.png'), fullPage: true });
  const today = await page.locator('table.trend tbody tr').first();
  await today.locator('a.bar-link').last().click(); // today's feedback
  await page.waitForURL(/\/triage\?status=all&kind=feedback&from=.*&to=/);
  assert.ok((await page.locator('table.queue tbody tr').count()) >= 2, 'the bar leads to its submissions');
  await page.goBack();
  await page.waitForURL(/\/triage\/trends$/);
  assert.deepEqual(await page.problems(), []);
});

test('on a phone the queue is cards that fit the screen; dark mode follows the system', async () => {
  const phone = await loggedIn({ viewport: { width: 390, height: 844 }, colorScheme: 'dark' });
  await phone.goto(`${service.url}/triage?status=all`);
  const width = await phone.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the queue is ${width} px wide at 390 px`);
  assert.equal(await phone.locator('table.queue tbody tr').first().evaluate((el) => getComputedStyle(el).display), 'block');
  const background = await phone.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(background, 'rgb(20, 24, 29)', 'the dark palette');
  await phone.screenshot({ path: path.join(SCREENSHOTS, 'triage-phone-dark.png') });
  assert.deepEqual(await phone.problems(), []);
});

test('accessibility (axe-core): the queue, a submission and the trends page, light and dark', async () => {
  for (const colorScheme of ['light', 'dark']) {
    const page = await loggedIn({ colorScheme });
    for (const path of ['/triage?status=all', `/triage/feedback/${ids.bug}`, '/triage/trends']) {
      await page.goto(`${service.url}${path}`);
      assert.deepEqual(await seriousViolations(page), [], `${path} (${colorScheme})`);
    }
    await page.context().close();
  }
});
