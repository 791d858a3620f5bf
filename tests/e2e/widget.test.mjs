// The widget on feedbackd's own demo page (served at `/` with the service's strict CSP):
// the three entry points end to end, checked in the service's SQLite and blob folder, plus
// validation errors, file limits, retries, keyboard use and languages.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdirSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import path from 'node:path';
import {
  PNG, SCREEN, SCREENSHOTS, UUID, WIDGET_DIR, activeElement, confirmationId, dialog, launchBrowser,
  newPage, recordPosts, sha256, startService,
} from './helpers.mjs';

const ALLOWED_FIELDS = new Set([
  'kind', 'summary', 'message', 'rating', 'webapp_version', 'server_version', 'screen_resolution',
  'url', 'terms_version', 'terms_accepted', 'button', 'contact_name', 'contact_email', 'attachment',
  'website', 'form_ms', // spam signals, never stored
]);
const DEMO_WEBAPP_VERSION = 'demo-6.4.0';
const DEMO_SERVER_VERSION = 'demo-9.1.2';
const STRICT_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; " +
  "base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

let svc;
let browser;
let terms;

before(async () => {
  svc = await startService();
  browser = await launchBrowser();
  const r = await fetch(`${svc.url}/api/v1/terms`);
  assert.equal(r.status, 200, 'GET /api/v1/terms');
  terms = await r.json();
  assert.ok(terms.version && terms.text && /^[0-9a-f]{64}$/.test(terms.sha256), 'terms have version, text, sha256');
});

after(async () => {
  await browser?.close();
  await svc?.stop();
});

const count = (table) => svc.sql(`SELECT count(*) AS n FROM ${table}`)[0].n;

/** The field names of a POST body, JSON or multipart. */
function sentFields(request) {
  const type = request.headers()['content-type'] || '';
  const body = request.postDataBuffer() || Buffer.alloc(0);
  if (type.startsWith('application/json')) return Object.keys(JSON.parse(body.toString('utf8')));
  assert.match(type, /^multipart\/form-data; boundary=/, 'a POST is JSON or multipart');
  return [...body.toString('latin1').matchAll(/Content-Disposition: form-data; name="([^"]+)"/g)].map((m) => m[1]);
}

/** Everything the service stored for one submission. */
function stored(id) {
  assert.match(id, UUID);
  const [submission] = svc.sql(`SELECT * FROM submissions WHERE id = '${id}'`);
  assert.ok(submission, `submission ${id} is stored`);
  return {
    submission,
    terms: svc.sql(`SELECT * FROM terms_acceptances WHERE submission_id = '${id}'`),
    attachments: svc.sql(`SELECT * FROM attachments WHERE submission_id = '${id}' ORDER BY position`),
    contacts: svc.sql(`SELECT submission_id FROM contacts WHERE submission_id = '${id}'`),
  };
}

test('the service serves widget/ exactly as it is on disk, the demo page with a strict CSP', async () => {
  for (const [route, file, type] of [
    ['/widget/feedback.js', 'feedback.js', /javascript/],
    ['/widget/demo.js', 'demo.js', /javascript/],
    ['/widget/demo.css', 'demo.css', /css/],
    ['/', 'demo.html', /html/],
  ]) {
    const r = await fetch(svc.url + route);
    assert.equal(r.status, 200, `GET ${route}`);
    assert.match(r.headers.get('content-type'), type, `content type of ${route}`);
    const body = await r.text();
    assert.ok(
      body === readFileSync(path.join(WIDGET_DIR, file), 'utf8'),
      `GET ${route} is not widget/${file} as on disk: the binary embeds an older copy; rebuild it (cargo build --bin feedbackd)`,
    );
    if (route === '/') assert.equal(r.headers.get('content-security-policy'), STRICT_CSP);
  }
});

test('the widget stays small and uses none of the APIs it promises not to', () => {
  const source = readFileSync(path.join(WIDGET_DIR, 'feedback.js'));
  const gz = gzipSync(source, { level: 9 }).length;
  assert.ok(gz <= 12 * 1024, `feedback.js is ${gz} bytes gzipped, over the 12 KB budget`);
  const code = source.toString('utf8');
  for (const banned of ['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'document.write', 'eval(', 'new Function',
    '.style.', "'style'", 'createElement(\'style\')', 'localStorage', 'sessionStorage', 'indexedDB', 'document.cookie',
    'withCredentials = true', 'sendBeacon']) {
    assert.ok(!code.includes(banned), `feedback.js uses ${banned}`);
  }
  for (const file of ['demo.html', 'demo.js', 'demo.css']) {
    const text = readFileSync(path.join(WIDGET_DIR, file), 'utf8');
    assert.ok(!/<script>|<style|\sstyle=|\son[a-z]+=/i.test(text), `${file} has inline script or style`);
  }
});

const ENTRY_POINTS = {
  feedback: {
    opener: 'the floating Feedback? button',
    button: 'send',
    async open(page) {
      const fab = page.locator('[data-feedback-widget] button.fab');
      await fab.click();
      return fab;
    },
    async fill(d) {
      await d.locator('input[name=rating][value="4"]').check();
      await d.locator('textarea').fill('The new calendar view is great.\nPlease keep it.');
      await d.locator('input[type=file]').setInputFiles({ name: 'screenshot.png', mimeType: 'image/png', buffer: PNG });
    },
    expect: { summary: null, message: 'The new calendar view is great.\nPlease keep it.', rating: 4, contact: false },
  },
  bug: {
    opener: 'the menu button',
    button: 'submit',
    async open(page) {
      const b = page.locator('button[data-feedback-open="bug"]');
      await b.click();
      return b;
    },
    async fill(d) {
      await d.locator('#fw-bug-summary').fill('Attachments vanish from drafts');
      await d.locator('textarea').fill('I attached a PDF to a draft, saved it, and the attachment was gone.');
      await d.locator('input[type=file]').setInputFiles({ name: 'draft.png', mimeType: 'image/png', buffer: PNG });
      await d.locator('#fw-bug-contact_name').fill('Ada Lovelace');
      await d.locator('#fw-bug-contact_email').fill('ada@example.org');
    },
    expect: {
      summary: 'Attachments vanish from drafts',
      message: 'I attached a PDF to a draft, saved it, and the attachment was gone.',
      rating: null,
      contact: true,
    },
  },
  feature: {
    opener: 'FeedbackWidget.open()',
    button: 'submit',
    async open(page) {
      await page.evaluate(() => window.FeedbackWidget.open('feature'));
      return null;
    },
    async fill(d, page) {
      await d.locator('#fw-feature-summary').fill('Dark mode');
      await d.locator('textarea').fill('A dark theme for late shifts.');
      // Drag and drop, as a user would drop a file from the desktop onto the form.
      const dataTransfer = await page.evaluateHandle((b64) => {
        const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
        const dt = new DataTransfer();
        dt.items.add(new File([bytes], 'mockup.png', { type: 'image/png' }));
        return dt;
      }, PNG.toString('base64'));
      await d.locator('.drop').dispatchEvent('dragover', { dataTransfer });
      await d.locator('.drop').dispatchEvent('drop', { dataTransfer });
    },
    expect: { summary: 'Dark mode', message: 'A dark theme for late shifts.', rating: null, contact: false },
  },
};

for (const [kind, entry] of Object.entries(ENTRY_POINTS)) {
  test(`${kind}: opened by ${entry.opener}, filled, sent with a file, stored with its environment and terms record`, async () => {
    const page = await newPage(browser, svc);
    const posts = await recordPosts(page);
    const responses = [];
    page.on('response', (r) => r.url().endsWith('/api/v1/feedback') && responses.push(r));
    await page.goto(`${svc.url}/?account=secret-token&view=inbox#message-42`);
    const opener = await entry.open(page);

    const d = dialog(page, kind);
    await d.waitFor({ state: 'visible' });
    assert.equal(await d.getAttribute('role'), 'dialog');
    assert.equal(await d.getAttribute('aria-modal'), 'true');
    const titleId = await d.getAttribute('aria-labelledby');
    assert.ok((await d.locator(`#${titleId}`).innerText()).trim(), 'the dialog is labelled by its title');
    // The current terms next to the button, saying that clicking it accepts them.
    const note = d.locator(`#fw-${kind}-terms`);
    await note.filter({ hasText: terms.version }).waitFor();
    const go = d.locator('button[type=submit]');
    const goLabel = (await go.innerText()).trim();
    assert.equal(goLabel, entry.button === 'send' ? 'Send' : 'Submit');
    assert.match(await note.innerText(), new RegExp(`By clicking ${goLabel} you accept`));
    assert.equal(await go.getAttribute('aria-describedby'), `fw-${kind}-terms`);

    await entry.fill(d, page);
    await d.locator('.files li').first().waitFor();
    assert.equal(await d.locator('.files li').count(), 1, 'one file listed');

    mkdirSync(SCREENSHOTS, { recursive: true });
    await page.screenshot({ path: path.join(SCREENSHOTS, `${kind}.png`) });

    // The full terms text is one click away.
    await d.locator('details summary').click();
    assert.equal((await d.locator('details .text').innerText()).trim(), terms.text.trim().replace(/\r/g, ''));

    await go.click();
    const id = await confirmationId(page, kind);

    // What went over the wire: one multipart POST with only the allowed fields and a key.
    assert.equal(posts.length, 1, 'exactly one POST');
    const request = posts[0];
    assert.match(request.headers()['content-type'], /^multipart\/form-data/);
    assert.match(request.headers()['idempotency-key'], UUID);
    const fields = sentFields(request);
    for (const f of fields) assert.ok(ALLOWED_FIELDS.has(f), `field ${f} is one the service accepts`);
    for (const f of ['kind', 'message', 'webapp_version', 'server_version', 'screen_resolution', 'url', 'terms_version', 'terms_accepted', 'button', 'attachment']) {
      assert.ok(fields.includes(f), `field ${f} is sent`);
    }
    assert.equal(new Set(fields).size, fields.length, 'no field is sent twice');
    if (!entry.expect.summary) assert.ok(!fields.includes('summary'), 'an empty summary is omitted');
    if (!entry.expect.contact) assert.ok(!fields.includes('contact_email'), 'an empty e-mail is omitted');
    assert.equal(responses[0].status(), 201);
    const receipt = await responses[0].json();
    assert.equal(receipt.id, id, 'the confirmation shows the id the service returned');

    // What the service stored.
    const s = stored(id);
    assert.equal(s.submission.kind, kind);
    assert.equal(s.submission.summary, entry.expect.summary);
    // Browsers encode line breaks in multipart text parts as CRLF (HTML's form-data encoding),
    // JSON keeps LF: either is the text the user typed.
    assert.equal(s.submission.message.replace(/\r\n/g, '\n'), entry.expect.message);
    assert.equal(s.submission.rating, entry.expect.rating);
    assert.equal(s.submission.webapp_version, DEMO_WEBAPP_VERSION);
    assert.equal(s.submission.server_version, DEMO_SERVER_VERSION);
    assert.equal(s.submission.screen_width, SCREEN.width);
    assert.equal(s.submission.screen_height, SCREEN.height);
    assert.equal(s.submission.page_url, `${svc.url}/`, 'the URL is stored without query and fragment');
    const ua = await page.evaluate(() => navigator.userAgent);
    assert.ok(s.submission.browser_brand, 'a browser brand is stored');
    assert.notEqual(s.submission.browser_brand, 'Other', `HeadlessChrome is recognised (UA ${ua})`);
    assert.ok(!/Mozilla|AppleWebKit|X11/.test(s.submission.browser_brand), 'the brand is not the raw User-Agent');
    const major = ua.match(/Chrome\/(\d+)/)[1];
    assert.ok(String(s.submission.browser_version).startsWith(major), `browser version ${s.submission.browser_version} is Chrome ${major}`);

    assert.equal(s.terms.length, 1, 'one terms record');
    assert.equal(s.terms[0].terms_version, terms.version);
    assert.equal(s.terms[0].terms_sha256, terms.sha256);
    assert.equal(s.terms[0].widget, kind);
    assert.equal(s.terms[0].button, entry.button);
    assert.ok(s.terms[0].accepted_at, 'the acceptance time is stored');

    assert.equal(s.attachments.length, 1, 'one attachment');
    const a = s.attachments[0];
    assert.equal(a.content_type, 'image/png');
    assert.equal(a.size, PNG.length);
    assert.equal(a.sha256, sha256(PNG));
    assert.deepEqual(receipt.attachments.map((x) => x.sha256), [sha256(PNG)]);
    const blob = svc.blob(a.object_key);
    assert.ok(blob, `the file is in the blob folder as ${a.object_key}`);
    assert.equal(sha256(blob), sha256(PNG), 'the stored blob is the file');
    assert.equal(s.contacts.length, entry.expect.contact ? 1 : 0, 'contact details stored only when given');

    // Closing returns focus to whatever opened the dialog.
    await d.locator('.done button.primary').click();
    await d.waitFor({ state: 'hidden' });
    if (opener) assert.equal(await opener.evaluate((el) => el === document.activeElement || el.getRootNode().activeElement === el), true, 'focus is back on the opener');
    // Opening again shows a fresh form.
    await entry.open(page);
    await d.waitFor({ state: 'visible' });
    assert.equal(await d.locator('textarea').inputValue(), '');
    assert.equal(await d.locator('.files li').count(), 0);

    assert.deepEqual(await page.problems(), [], 'no CSP violation and no uncaught error');
    await page.context().close();
  });
}

test('a server validation error is shown next to its field; after fixing it the form is sent', async () => {
  const page = await newPage(browser, svc);
  const before = count('submissions');
  await page.goto(svc.url + '/');
  await page.locator('button[data-feedback-open="feature"]').click();
  const d = dialog(page, 'feature');
  await d.locator('textarea').fill('     ');
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/feedback')),
    d.locator('button[type=submit]').click(),
  ]);
  assert.equal(response.status(), 422, 'a message of only spaces is refused by the service');
  assert.match(response.headers()['content-type'], /^application\/problem\+json/);
  const problem = await response.json();
  const error = problem.errors.find((e) => e.field === 'message');
  assert.ok(error, `the service names the message field: ${JSON.stringify(problem)}`);

  const err = d.locator('#fw-feature-message-err');
  await err.waitFor({ state: 'visible' });
  assert.equal((await err.innerText()).toLowerCase(), error.message.toLowerCase(), 'the service’s message is shown under the field');
  const textarea = d.locator('textarea');
  assert.equal(await textarea.getAttribute('aria-invalid'), 'true');
  assert.match(await textarea.getAttribute('aria-describedby'), /fw-feature-message-err/);
  assert.deepEqual(await activeElement(page).then((a) => a.id), 'fw-feature-message', 'focus moves to the invalid field');
  assert.equal(count('submissions'), before, 'nothing stored');

  await textarea.fill('Keyboard shortcuts for the calendar.');
  await d.locator('button[type=submit]').click();
  const id = await confirmationId(page, 'feature');
  assert.equal(stored(id).submission.message, 'Keyboard shortcuts for the calendar.');
  assert.deepEqual(await page.problems(), []);
  await page.context().close();
});

test('the confirmation offers to withdraw the feedback while it is open; withdrawn, nothing is kept', async () => {
  const page = await newPage(browser, svc);
  await page.goto(svc.url + '/');
  await page.locator('button[data-feedback-open="feature"]').click();
  const d = dialog(page, 'feature');
  await d.locator('textarea').fill('Please add dark mode to the calendar.');
  await d.locator('input[type=file]').setInputFiles({ name: 'shot.png', mimeType: 'image/png', buffer: PNG });
  await d.locator('button[type=submit]').click();
  const id = await confirmationId(page, 'feature');
  assert.equal(stored(id).attachments.length, 1);
  const objects = svc.sql(`SELECT object_key FROM attachments WHERE submission_id = '${id}'`);

  const withdraw = d.locator('.done button', { hasText: 'Withdraw this feedback' });
  await withdraw.waitFor({ state: 'visible' });
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith(`/api/v1/feedback/${id}/withdraw`)),
    withdraw.click(),
  ]);
  assert.equal(response.status(), 200);
  await d.locator('.done', { hasText: 'withdrawn' }).waitFor();
  assert.ok(await withdraw.isHidden(), 'the button goes once it is done');
  for (const table of ['submissions', 'terms_acceptances', 'attachments', 'contacts']) {
    const column = table === 'submissions' ? 'id' : 'submission_id';
    assert.equal(svc.sql(`SELECT count(*) AS n FROM ${table} WHERE ${column} = '${id}'`)[0].n, 0, `nothing left in ${table}`);
  }
  assert.equal(objects.length, 1);

  // Opened again, the form is new: no way to withdraw anything from it before sending.
  await d.locator('.done button.primary').click();
  await page.locator('button[data-feedback-open="feature"]').click();
  assert.ok(await d.locator('.done').isHidden());
  assert.deepEqual(await page.problems(), []);
  await page.context().close();
});

test('an environment field the host did not configure is reported in the form’s alert', async () => {
  const page = await newPage(browser, svc);
  const before = count('submissions');
  await page.goto(svc.url + '/');
  await page.evaluate(() => window.FeedbackWidget.init({ webappVersion: '' }));
  await page.locator('button[data-feedback-open="feedback"]').first().click();
  const d = dialog(page, 'feedback');
  await d.locator('textarea').fill('Nice.');
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/feedback')),
    d.locator('button[type=submit]').click(),
  ]);
  assert.equal(response.status(), 422);
  const problem = await response.json();
  const error = problem.errors.find((e) => e.field === 'webapp_version');
  assert.ok(error, JSON.stringify(problem));
  const alert = d.locator('[role=alert]');
  await alert.filter({ hasText: 'webapp_version' }).waitFor();
  assert.ok((await alert.innerText()).includes(`webapp_version: ${error.message}`), 'the field is named as sent, with the service’s message');
  assert.equal(count('submissions'), before, 'nothing stored');
  await page.context().close();
});

test('an 11 MiB file is refused before anything is uploaded', async () => {
  const page = await newPage(browser, svc);
  const requests = [];
  page.on('request', (r) => r.url().includes('/api/v1/feedback') && requests.push(`${r.method()} ${r.url()}`));
  await page.goto(svc.url + '/');
  await page.locator('button[data-feedback-open="bug"]').click();
  const d = dialog(page, 'bug');
  await d.locator('textarea').fill('Big log attached.');
  await d.locator('input[type=file]').setInputFiles({
    name: 'huge.log',
    mimeType: 'text/plain',
    buffer: Buffer.alloc(11 * 1024 * 1024, 'log line\n'),
  });
  const err = d.locator('#fw-bug-attachment-err');
  await err.waitFor({ state: 'visible' });
  assert.match(await err.innerText(), /huge\.log.*larger than 10 MB/);
  assert.equal(await d.locator('input[type=file]').getAttribute('aria-invalid'), 'true');
  assert.equal(await d.locator('.files li').count(), 0, 'the file is not listed');
  await page.waitForTimeout(500);
  assert.deepEqual(requests, [], 'no request was made');

  // Sending now sends the form without the refused file.
  const posts = await recordPosts(page);
  await d.locator('button[type=submit]').click();
  const id = await confirmationId(page, 'bug');
  assert.equal(posts.length, 1);
  assert.match(posts[0].headers()['content-type'], /^application\/json/, 'no file left to upload: JSON');
  assert.ok(posts[0].postDataBuffer().length < 4096, 'the body is small');
  assert.equal(stored(id).attachments.length, 0);
  await page.context().close();
});

test('cancelling the file picker leaves the form open, Esc still closes it', async () => {
  const page = await newPage(browser, svc);
  await page.goto(svc.url + '/');
  await page.locator('button[data-feedback-open="bug"]').click();
  const d = dialog(page, 'bug');
  await d.locator('textarea').fill('Half-written report.');
  // What the browser fires when the picker is dismissed without a choice: a bubbling `cancel`
  // at the input (HTML: "fire an event named cancel at the input element, bubbles").
  await d.locator('input[type=file]').dispatchEvent('cancel', { bubbles: true, cancelable: false });
  await page.waitForTimeout(200);
  assert.equal(await d.evaluate((el) => el.open), true, 'the dialog is still open');
  assert.equal(await d.locator('textarea').inputValue(), 'Half-written report.', 'nothing typed is lost');
  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('dialog[open]') &&
    ![...document.querySelectorAll('*')].some((el) => el.shadowRoot?.querySelector('dialog[open]')));
  await page.context().close();
});

test('more files than the limit: the extra ones are refused; a file can be removed before sending', async () => {
  const page = await newPage(browser, svc);
  await page.goto(svc.url + '/');
  const limits = await (await fetch(`${svc.url}/api/v1/limits`)).json();
  await page.locator('button[data-feedback-open="bug"]').click();
  const d = dialog(page, 'bug');
  const files = Array.from({ length: limits.max_attachments + 1 }, (_, i) => ({
    name: `shot-${i + 1}.png`, mimeType: 'image/png', buffer: PNG,
  }));
  await d.locator('input[type=file]').setInputFiles(files);
  await d.locator('#fw-bug-attachment-err').waitFor({ state: 'visible' });
  assert.match(await d.locator('#fw-bug-attachment-err').innerText(), new RegExp(`At most ${limits.max_attachments} files`));
  assert.equal(await d.locator('.files li').count(), limits.max_attachments);
  await d.getByRole('button', { name: 'Remove shot-2.png' }).click();
  assert.equal(await d.locator('.files li').count(), limits.max_attachments - 1);
  await d.locator('textarea').fill('Several screenshots.');
  await d.locator('button[type=submit]').click();
  const id = await confirmationId(page, 'bug');
  const names = stored(id).attachments.map((a) => a.filename);
  assert.deepEqual(names, files.map((f) => f.name).filter((n) => n !== 'shot-2.png').slice(0, limits.max_attachments - 1));
  await page.context().close();
});

test('when the service’s limit is lower than the widget was told, its 413 is shown next to the attachments', async () => {
  const page = await newPage(browser, svc);
  const before = { s: count('submissions'), a: count('attachments') };
  // The widget believes 50 MiB files are fine; the service (10 MiB) disagrees.
  await page.route('**/api/v1/limits', (route) =>
    route.fulfill({ json: { max_attachments: 5, max_attachment_bytes: 50 << 20, max_total_attachment_bytes: 100 << 20 } }),
  );
  await page.goto(svc.url + '/');
  await page.locator('button[data-feedback-open="bug"]').click();
  const d = dialog(page, 'bug');
  await d.locator('textarea').fill('A long log.');
  await d.locator('#fw-bug-attachment-hint').filter({ hasText: '50 MB each' }).waitFor();
  await d.locator('input[type=file]').setInputFiles({ name: 'big.log', mimeType: 'text/plain', buffer: Buffer.alloc(11 << 20, 'a') });
  assert.equal(await d.locator('.files li').count(), 1);
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/feedback')),
    d.locator('button[type=submit]').click(),
  ]);
  assert.equal(response.status(), 413);
  const problem = await response.json();
  assert.equal(problem.code, 'too_large');
  const err = d.locator('#fw-bug-attachment-err');
  await err.waitFor({ state: 'visible' });
  const shown = (await err.innerText()).toLowerCase();
  const expected = (problem.errors?.find((e) => e.field === 'attachment')?.message || problem.detail).toLowerCase();
  assert.ok(shown.includes(expected), `"${shown}" shows "${expected}"`);
  assert.deepEqual({ s: count('submissions'), a: count('attachments') }, before, 'nothing stored');
  await page.context().close();
});

test('a file of a type the service refuses (415) is reported next to the attachments, nothing stored', async () => {
  const page = await newPage(browser, svc);
  const before = { s: count('submissions'), a: count('attachments') };
  await page.goto(svc.url + '/');
  await page.locator('button[data-feedback-open="bug"]').click();
  const d = dialog(page, 'bug');
  await d.locator('textarea').fill('See the archive.');
  // A ZIP file dressed up as a PNG: the service looks at the bytes, not the name or type.
  const zip = Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(200, 7)]);
  await d.locator('input[type=file]').setInputFiles({ name: 'logs.png', mimeType: 'image/png', buffer: zip });
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith('/api/v1/feedback')),
    d.locator('button[type=submit]').click(),
  ]);
  assert.equal(response.status(), 415);
  assert.equal((await response.json()).code, 'attachment_type_not_allowed');
  const err = d.locator('#fw-bug-attachment-err');
  await err.waitFor({ state: 'visible' });
  assert.ok((await err.innerText()).trim().length > 0);
  assert.deepEqual({ s: count('submissions'), a: count('attachments') }, before, 'nothing stored');
  await d.getByRole('button', { name: 'Remove logs.png' }).click();
  await d.locator('button[type=submit]').click();
  await confirmationId(page, 'bug');
  await page.context().close();
});

test('a network failure is retried with the same Idempotency-Key and stored once', async () => {
  const page = await newPage(browser, svc);
  const keys = [];
  await page.route('**/api/v1/feedback', async (route) => {
    keys.push(route.request().headers()['idempotency-key']);
    if (keys.length === 1) {
      // The request reaches the service, but its response is lost on the way back.
      await route.fetch();
      await route.abort('connectionreset');
    } else {
      await route.continue();
    }
  });
  await page.goto(svc.url + '/');
  await page.locator('button[data-feedback-open="bug"]').click();
  const d = dialog(page, 'bug');
  const message = `Lost response ${Date.now()}`;
  await d.locator('textarea').fill(message);
  await d.locator('input[type=file]').setInputFiles({ name: 'a.png', mimeType: 'image/png', buffer: PNG });
  await d.locator('button[type=submit]').click();
  const id = await confirmationId(page, 'bug');
  assert.equal(keys.length, 2, 'sent twice');
  assert.match(keys[0], UUID);
  assert.equal(keys[1], keys[0], 'with the same key');
  const rows = svc.sql(`SELECT id FROM submissions WHERE message = '${message}'`);
  assert.deepEqual(rows.map((r) => r.id), [id], 'stored once, and the retry answered with the first id');
  assert.equal(stored(id).attachments.length, 1);

  // A new submission gets a new key.
  await d.locator('.done button.primary').click();
  await page.locator('button[data-feedback-open="bug"]').click();
  await d.locator('textarea').fill('Second report');
  await d.locator('button[type=submit]').click();
  await confirmationId(page, 'bug');
  assert.equal(keys.length, 3);
  assert.notEqual(keys[2], keys[0]);
  await page.context().close();
});

test('when the service stays unreachable, or answers 429 or 503, the form says to try again later', async () => {
  const page = await newPage(browser, svc);
  let mode = 'abort';
  let attempts = 0;
  await page.route('**/api/v1/feedback', (route) => {
    attempts++;
    if (mode === 'abort') return route.abort('connectionrefused');
    const status = mode;
    return route.fulfill({
      status,
      headers: { 'content-type': 'application/problem+json', 'retry-after': '30' },
      body: JSON.stringify({ type: 'about:blank', title: 'busy', status, code: status === 429 ? 'rate_limited' : 'storage_unavailable' }),
    });
  });
  await page.goto(svc.url + '/');
  await page.locator('button[data-feedback-open="feedback"]').first().click();
  const d = dialog(page, 'feedback');
  await d.locator('textarea').fill('Hello');
  const alert = d.locator('[role=alert]');
  await d.locator('button[type=submit]').click();
  await alert.filter({ hasText: 'could not be reached' }).waitFor({ timeout: 10000 });
  assert.equal(attempts, 3, 'a network failure is tried three times in all');
  for (const status of [429, 503]) {
    mode = status;
    attempts = 0;
    await d.locator('button[type=submit]').click();
    await alert.filter({ hasText: 'try again later' }).waitFor();
    assert.match(await alert.innerText(), /busy.*try again later/i);
    assert.equal(attempts, 1, `${status} is not retried automatically`);
  }
  assert.equal(await d.locator('textarea').inputValue(), 'Hello', 'what the user wrote is kept');
  await page.context().close();
});

test('keyboard only: open from the menu, fill, submit, close; focus stays in the dialog and returns to the opener', async () => {
  const page = await newPage(browser, svc);
  await page.goto(svc.url + '/');
  // Tab to the "Report a bug" menu button.
  for (let i = 0; i < 30 && (await activeElement(page)).open !== 'bug'; i++) await page.keyboard.press('Tab');
  assert.equal((await activeElement(page)).open, 'bug', 'the menu button is reachable by Tab');
  await page.keyboard.press('Enter');
  const d = dialog(page, 'bug');
  await d.waitFor({ state: 'visible' });
  assert.equal((await activeElement(page)).id, 'fw-bug-summary', 'focus starts in the first field');
  await page.keyboard.type('Search ignores umlauts');
  await page.keyboard.press('Tab');
  assert.equal((await activeElement(page)).id, 'fw-bug-message');
  await page.keyboard.type('Searching for "Müller" finds nothing.');

  // Tab through the whole dialog: focus never leaves it and wraps around.
  const seen = [];
  for (let i = 0; i < 25; i++) {
    await page.keyboard.press('Tab');
    const a = await activeElement(page);
    assert.equal(a.dialog, 'bug', `focus stays in the dialog (at ${JSON.stringify(a)})`);
    seen.push(a.id || a.text);
  }
  assert.ok(seen.includes('fw-bug-message') && seen.includes('fw-bug-contact_email'), `focus wrapped: ${seen}`);
  await page.keyboard.press('Shift+Tab');
  assert.equal((await activeElement(page)).dialog, 'bug');

  // Esc closes and gives focus back to the menu button; the text is kept.
  await page.keyboard.press('Escape');
  await d.waitFor({ state: 'hidden' });
  assert.equal((await activeElement(page)).open, 'bug', 'focus is back on the opener');
  await page.keyboard.press('Enter');
  await d.waitFor({ state: 'visible' });
  assert.equal(await d.locator('textarea').inputValue(), 'Searching for "Müller" finds nothing.');

  // Tab to the Submit button and press Enter.
  for (let i = 0; i < 20 && (await activeElement(page)).type !== 'submit'; i++) await page.keyboard.press('Tab');
  assert.equal((await activeElement(page)).text, 'Submit');
  await page.keyboard.press('Enter');
  const id = await confirmationId(page, 'bug');
  assert.equal((await activeElement(page)).text, 'Close', 'focus moves to the confirmation');
  assert.equal(stored(id).submission.summary, 'Search ignores umlauts');
  assert.equal(stored(id).terms[0].button, 'submit');
  await page.keyboard.press('Enter');
  await d.waitFor({ state: 'hidden' });
  assert.equal((await activeElement(page)).open, 'bug');
  assert.deepEqual(await page.problems(), []);
  await page.context().close();
});

test('languages: the demo switches to Dutch through init(); strings can be overridden', async () => {
  const page = await newPage(browser, svc);
  await page.goto(svc.url + '/');
  await page.locator('#lang').selectOption('nl');
  await page.locator('button[data-feedback-open="bug"]').click();
  const d = dialog(page, 'bug');
  assert.equal((await d.locator('h2').innerText()).trim(), 'Een fout melden');
  assert.equal((await d.locator('button[type=submit]').innerText()).trim(), 'Indienen');
  await d.locator(`#fw-bug-terms`).filter({ hasText: 'Door op Indienen te klikken' }).waitFor();
  await page.keyboard.press('Escape');

  await page.evaluate(() => window.FeedbackWidget.init({ lang: 'de', strings: { title_feature: 'Idee einreichen' } }));
  await page.evaluate(() => window.FeedbackWidget.open('feature'));
  const f = dialog(page, 'feature');
  assert.equal((await f.locator('h2').innerText()).trim(), 'Idee einreichen');
  assert.equal((await f.locator('button[type=submit]').innerText()).trim(), 'Absenden');
  await f.locator('textarea').fill('Bitte mehr Tastenkürzel.');
  await f.locator('button[type=submit]').click();
  const id = await confirmationId(page, 'feature');
  assert.match(await f.locator('.done').innerText(), /Vielen Dank!/);
  assert.equal(stored(id).terms[0].widget, 'feature');
  assert.deepEqual(await page.problems(), []);
  await page.context().close();
});
