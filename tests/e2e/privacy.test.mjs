// The webmaster's erase flow in a real browser: find an address, see the preview (date, kind,
// status, summary, files), download the export without any removal checks in the way, try to
// remove everything without typing the address back (refused), then remove it and land on
// the receipt, which a reload shows again without removing anything more.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

import { BIN, PNG, launchBrowser, newPage, startService } from './helpers.mjs';

const PASSWORD = 'a long webmaster password';
let service;
let browser;

async function submit(fields) {
  const terms = await (await fetch(`${service.url}/api/v1/terms`)).json();
  const form = new FormData();
  const base = {
    kind: 'bug', webapp_version: '6.4.2', server_version: '9.1.0', screen_resolution: '1920x1080',
    url: 'https://mail.example.org/app', terms_version: terms.version, terms_accepted: 'true',
  };
  for (const [k, v] of Object.entries({ ...base, ...fields })) form.append(k, v);
  form.append('attachment', new Blob([PNG]), 'calendar.png');
  const response = await fetch(`${service.url}/api/v1/feedback`, { method: 'POST', body: form });
  assert.equal(response.status, 201, await response.clone().text());
  return (await response.json()).id;
}

before(async () => {
  service = await startService();
  const added = spawnSync(BIN, ['user', 'add', 'wendy', '--role', 'webmaster'], {
    input: `${PASSWORD}\n`,
    env: { ...process.env, FEEDBACKD_DATA_DIR: service.dir },
    encoding: 'utf8',
  });
  assert.equal(added.status, 0, added.stderr);
  await submit({
    summary: 'Calendar loses events', message: 'Events vanish after a reload.',
    contact_name: 'Pat Example', contact_email: 'pat@example.org',
  });
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await service?.stop();
});

test('a webmaster previews, exports and removes everything tied to an address', async () => {
  const page = await newPage(browser, service, { acceptDownloads: true });
  await page.goto(`${service.url}/triage/login`);
  await page.getByLabel('Name').fill('wendy');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await page.waitForURL(`${service.url}/triage`);

  await page.goto(`${service.url}/triage/privacy`);
  await page.getByLabel("The person's e-mail address").fill('Pat@Example.org');
  await page.getByRole('button', { name: 'Find' }).click();
  await page.waitForLoadState();
  const row = page.locator('table.preview tbody tr');
  assert.equal(await row.count(), 1);
  const text = await row.innerText();
  for (const shown of ['bug', 'new', 'Calendar loses events', 'calendar.png', new Date().getUTCFullYear().toString()]) {
    assert.match(text, new RegExp(shown), `${shown} in the preview`);
  }
  assert.equal(await page.locator('input[name=scope]:checked').count(), 0, 'no scope chosen in advance');
  assert.match(await page.locator('fieldset.danger').innerText(), /cannot be done/);

  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download export (ZIP)' }).click(),
  ]);
  assert.match(download.suggestedFilename(), /^feedbackd-export-\d{4}-\d{2}-\d{2}\.zip$/);

  await page.locator('input[name=scope][value=everything]').check();
  await page.getByLabel('To remove everything, type the address again').fill('someone@example.org');
  await page.getByLabel(/I have checked/).check();
  await page.getByRole('button', { name: 'Remove' }).click();
  await page.waitForLoadState();
  assert.match(await page.locator('[role=alert]').innerText(), /type the address again/);
  assert.equal(service.sql('SELECT COUNT(*) AS n FROM submissions')[0].n, 1, 'nothing removed');


  await page.locator('input[name=scope][value=everything]').check();
  await page.getByLabel('To remove everything, type the address again').fill('pat@example.org');
  await page.getByLabel(/I have checked/).check();
  await page.getByRole('button', { name: 'Remove' }).click();
  await page.waitForURL(/\/triage\/privacy\?receipt=[0-9a-f]{32}$/);
  const receipt = new URL(page.url()).searchParams.get('receipt');
  assert.match(await page.locator('section.notice').innerText(), new RegExp(receipt));
  assert.equal(service.sql('SELECT COUNT(*) AS n FROM submissions')[0].n, 0);
  const audited = service.sql('SELECT COUNT(*) AS n FROM audit_log')[0].n;
  await page.reload();
  assert.match(await page.locator('section.notice').innerText(), /submissions removed\s+1/i);
  assert.equal(service.sql('SELECT COUNT(*) AS n FROM audit_log')[0].n, audited, 'a reload does nothing');
  assert.deepEqual(await page.problems(), []);
});
