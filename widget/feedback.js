/*! feedbackd widget: the Feedback? window, the Bug Reporter and the Features Submitter.
 * Dependency-free; no cookies, no storage; talks to the feedbackd service only.
 * Embedding, options and CSP notes: docs/WIDGET.md in the feedbackd repository. */
(() => {
  'use strict';
  if (window.FeedbackWidget) return;

  const doc = document;
  const script = doc.currentScript;
  const data = (script && script.dataset) || {};
  const KINDS = ['feedback', 'bug', 'feature'];
  // Used until GET /api/v1/limits answers (the service's defaults).
  let limits = {
    max_attachments: 5,
    max_attachment_bytes: 10485760,
    max_total_attachment_bytes: 26214400,
  };

  const STRINGS = {
    en: {
      launcher: 'Feedback?',
      title_feedback: 'Feedback',
      title_bug: 'Report a bug',
      title_feature: 'Suggest a feature',
      intro_feedback: 'How do you like the WebApp? Tell us what works and what does not.',
      intro_bug: 'Tell us what went wrong, and we will look into it.',
      intro_feature: 'What would make the WebApp better for you?',
      rating: 'Your rating (optional)',
      rating_hint: '1 = poor, 5 = excellent',
      summary: 'Summary (optional)',
      message_feedback: 'Your feedback',
      message_bug: 'What happened?',
      message_feature: 'Description',
      attachment: 'Attachments (optional)',
      attachment_hint:
        'Screenshots (PNG, JPEG, GIF, WebP), PDF or text files: up to {n} files, {size} each, {total} in all. You can also drop files here.',
      remove: 'Remove',
      remove_file: 'Remove {name}',
      contact_name: 'Your name (optional)',
      contact_email: 'Your e-mail address (optional)',
      contact_hint: 'Only used to contact you about this feedback.',
      send: 'Send',
      submit: 'Submit',
      cancel: 'Cancel',
      close: 'Close',
      terms: 'By clicking {button} you accept the feedback terms (version {version}).',
      terms_show: 'Read the terms',
      terms_loading: 'Loading the terms…',
      terms_failed: 'The terms could not be loaded, so nothing can be sent now. Please try again later.',
      env: 'Sent with it: WebApp version {webapp}, server version {server}, screen {screen}, page {url}, and your browser’s brand and version.',
      sending: 'Sending…',
      thanks: 'Thank you!',
      received: 'We received it. Reference: {id}',
      withdraw: 'Withdraw this feedback',
      withdrawn: 'Your feedback was withdrawn: nothing of it is kept.',
      withdraw_failed: 'It could not be withdrawn now. Please try again.',
      err_count: 'At most {n} files can be attached.',
      err_size: '“{name}” is larger than {size}.',
      err_total: 'All files together may be at most {total}.',
      err_empty_file: '“{name}” is empty.',
      err_fix: 'Please correct the marked fields.',
      err_busy: 'The service is busy right now. Please try again later.',
      err_network: 'The service could not be reached. Check your connection and try again later.',
      err_generic: 'Something went wrong ({status}). Please try again later.',
      err_terms: 'The terms have changed. Please read them and click {button} again.',
    },
    nl: {
      launcher: 'Feedback?',
      title_feedback: 'Feedback',
      title_bug: 'Een fout melden',
      title_feature: 'Een functie voorstellen',
      intro_feedback: 'Wat vindt u van de WebApp? Vertel ons wat werkt en wat niet.',
      intro_bug: 'Vertel ons wat er misging, dan zoeken we het uit.',
      intro_feature: 'Wat zou de WebApp beter maken voor u?',
      rating: 'Uw beoordeling (optioneel)',
      rating_hint: '1 = slecht, 5 = uitstekend',
      summary: 'Samenvatting (optioneel)',
      message_feedback: 'Uw feedback',
      message_bug: 'Wat gebeurde er?',
      message_feature: 'Beschrijving',
      attachment: 'Bijlagen (optioneel)',
      attachment_hint:
        'Schermafbeeldingen (PNG, JPEG, GIF, WebP), PDF- of tekstbestanden: tot {n} bestanden, elk {size}, samen {total}. U kunt bestanden ook hierheen slepen.',
      remove: 'Verwijderen',
      remove_file: '{name} verwijderen',
      contact_name: 'Uw naam (optioneel)',
      contact_email: 'Uw e-mailadres (optioneel)',
      contact_hint: 'Alleen gebruikt om contact met u op te nemen over deze feedback.',
      send: 'Versturen',
      submit: 'Indienen',
      cancel: 'Annuleren',
      close: 'Sluiten',
      terms: 'Door op {button} te klikken aanvaardt u de feedbackvoorwaarden (versie {version}).',
      terms_show: 'De voorwaarden lezen',
      terms_loading: 'De voorwaarden worden geladen…',
      terms_failed: 'De voorwaarden konden niet worden geladen, dus er kan nu niets worden verstuurd. Probeer het later opnieuw.',
      env: 'Wordt meegestuurd: WebApp-versie {webapp}, serverversie {server}, scherm {screen}, pagina {url}, en het merk en de versie van uw browser.',
      sending: 'Bezig met versturen…',
      thanks: 'Dank u wel!',
      received: 'We hebben het ontvangen. Referentie: {id}',
      withdraw: 'Deze feedback intrekken',
      withdrawn: 'Uw feedback is ingetrokken: er wordt niets van bewaard.',
      withdraw_failed: 'Intrekken lukt nu niet. Probeer het opnieuw.',
      err_count: 'U kunt hoogstens {n} bestanden bijvoegen.',
      err_size: '“{name}” is groter dan {size}.',
      err_total: 'Alle bestanden samen mogen hoogstens {total} zijn.',
      err_empty_file: '“{name}” is leeg.',
      err_fix: 'Verbeter de gemarkeerde velden.',
      err_busy: 'De dienst is nu druk. Probeer het later opnieuw.',
      err_network: 'De dienst is niet bereikbaar. Controleer uw verbinding en probeer het later opnieuw.',
      err_generic: 'Er ging iets mis ({status}). Probeer het later opnieuw.',
      err_terms: 'De voorwaarden zijn gewijzigd. Lees ze en klik opnieuw op {button}.',
      code_required: 'Vul dit veld in.',
      code_empty: 'Vul dit veld in.',
      code_too_long: 'Dit is te lang.',
      code_invalid: 'Deze waarde is ongeldig.',
    },
    de: {
      launcher: 'Feedback?',
      title_feedback: 'Feedback',
      title_bug: 'Fehler melden',
      title_feature: 'Funktion vorschlagen',
      intro_feedback: 'Wie gefällt Ihnen die WebApp? Sagen Sie uns, was gut funktioniert und was nicht.',
      intro_bug: 'Beschreiben Sie, was schiefgelaufen ist – wir sehen es uns an.',
      intro_feature: 'Was würde die WebApp für Sie besser machen?',
      rating: 'Ihre Bewertung (optional)',
      rating_hint: '1 = schlecht, 5 = ausgezeichnet',
      summary: 'Zusammenfassung (optional)',
      message_feedback: 'Ihr Feedback',
      message_bug: 'Was ist passiert?',
      message_feature: 'Beschreibung',
      attachment: 'Anhänge (optional)',
      attachment_hint:
        'Bildschirmfotos (PNG, JPEG, GIF, WebP), PDF- oder Textdateien: bis zu {n} Dateien, je {size}, insgesamt {total}. Sie können Dateien auch hierher ziehen.',
      remove: 'Entfernen',
      remove_file: '{name} entfernen',
      contact_name: 'Ihr Name (optional)',
      contact_email: 'Ihre E-Mail-Adresse (optional)',
      contact_hint: 'Nur verwendet, um Sie zu diesem Feedback zu kontaktieren.',
      send: 'Senden',
      submit: 'Absenden',
      cancel: 'Abbrechen',
      close: 'Schließen',
      terms: 'Mit einem Klick auf {button} akzeptieren Sie die Feedback-Bedingungen (Version {version}).',
      terms_show: 'Bedingungen lesen',
      terms_loading: 'Die Bedingungen werden geladen…',
      terms_failed: 'Die Bedingungen konnten nicht geladen werden, daher kann jetzt nichts gesendet werden. Bitte versuchen Sie es später erneut.',
      env: 'Mitgesendet werden: WebApp-Version {webapp}, Server-Version {server}, Bildschirm {screen}, Seite {url} sowie Marke und Version Ihres Browsers.',
      sending: 'Wird gesendet…',
      thanks: 'Vielen Dank!',
      received: 'Wir haben es erhalten. Referenz: {id}',
      withdraw: 'Dieses Feedback zurückziehen',
      withdrawn: 'Ihr Feedback wurde zurückgezogen: nichts davon wird aufbewahrt.',
      withdraw_failed: 'Das Zurückziehen ist gerade nicht möglich. Bitte versuchen Sie es erneut.',
      err_count: 'Es können höchstens {n} Dateien angehängt werden.',
      err_size: '„{name}“ ist größer als {size}.',
      err_total: 'Alle Dateien zusammen dürfen höchstens {total} groß sein.',
      err_empty_file: '„{name}“ ist leer.',
      err_fix: 'Bitte korrigieren Sie die markierten Felder.',
      err_busy: 'Der Dienst ist gerade ausgelastet. Bitte versuchen Sie es später erneut.',
      err_network: 'Der Dienst ist nicht erreichbar. Prüfen Sie Ihre Verbindung und versuchen Sie es später erneut.',
      err_generic: 'Etwas ist schiefgelaufen ({status}). Bitte versuchen Sie es später erneut.',
      err_terms: 'Die Bedingungen haben sich geändert. Bitte lesen Sie sie und klicken Sie erneut auf {button}.',
      code_required: 'Bitte füllen Sie dieses Feld aus.',
      code_empty: 'Bitte füllen Sie dieses Feld aus.',
      code_too_long: 'Das ist zu lang.',
      code_invalid: 'Dieser Wert ist ungültig.',
    },
  };

  const CSS = `
:host{all:initial}
*{box-sizing:border-box}
[hidden]{display:none!important}
.fab,dialog{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1d1d1f}
button,input,textarea{font:inherit;color:inherit}
button{cursor:pointer;border-radius:6px;padding:.45em 1em;border:1px solid #8a8f98;background:#fff}
button:hover{background:#eef1f6}
.primary{background:#1f5fbf;border-color:#1f5fbf;color:#fff;font-weight:600}
.primary:hover{background:#184c99}
.primary[aria-disabled=true]{opacity:.6;cursor:progress}
:focus-visible{outline:3px solid #1f5fbf;outline-offset:2px}
.fab{position:fixed;right:20px;bottom:20px;z-index:2147483000;border-radius:22px;padding:.6em 1.2em;box-shadow:0 2px 10px #0004}
dialog{width:min(34rem,calc(100vw - 2rem));max-height:calc(100vh - 2rem);overflow:auto;border:0;border-radius:10px;padding:0;background:#fff;box-shadow:0 10px 40px #0006}
dialog::backdrop{background:#0008}
header{display:flex;align-items:center;justify-content:space-between;padding:1rem 1.25rem .25rem}
h2{font-size:1.25rem;margin:0}
.x{border:0;font-size:1.4rem;line-height:1;padding:.2em .45em;background:none}
form,.done{padding:.25rem 1.25rem 1.25rem}
p{margin:.25rem 0 .75rem}
.f{margin:0 0 .9rem;padding:0;border:0}
label,legend{display:block;font-weight:600;margin:0 0 .2rem;padding:0}
.hint{font-size:.85em;color:#4a4f57;margin:0 0 .3rem}
input[type=text],input[type=email],textarea{width:100%;padding:.45em .6em;border:1px solid #8a8f98;border-radius:6px;background:#fff}
textarea{min-height:6em;resize:vertical}
[aria-invalid=true]{border-color:#b00020!important;box-shadow:0 0 0 1px #b00020}
.err{color:#b00020;font-weight:600;margin:.3rem 0 0}
.stars{display:flex;gap:.4rem}
.stars label{position:relative;display:flex;align-items:center;justify-content:center;min-width:2.6em;border:1px solid #8a8f98;border-radius:6px;padding:.25em .7em;cursor:pointer}
.stars input{position:absolute;opacity:0;width:1px;height:1px;margin:0}
.stars label:has(:checked){background:#1f5fbf;border-color:#1f5fbf;color:#fff}
.stars label:has(:focus-visible){outline:3px solid #1f5fbf;outline-offset:2px}
.drop{border:2px dashed #8a8f98;border-radius:8px;padding:.6rem .75rem}
.drop.over{border-color:#1f5fbf;background:#eef4ff}
input[type=file]{max-width:100%}
.files{list-style:none;margin:.5rem 0 0;padding:0}
.files li{display:flex;justify-content:space-between;align-items:center;gap:.5rem;padding:.2rem 0;border-top:1px solid #e2e4e8;word-break:break-all}
.files button{padding:.15em .6em;font-size:.85em}
.terms{font-size:.9em;background:#f4f6f9;border-radius:6px;padding:.6rem .75rem;margin:0 0 .75rem}
.terms p{margin:0}
details{margin-top:.35rem}
summary{cursor:pointer;color:#1f5fbf;text-decoration:underline}
.text{white-space:pre-line;margin:.4rem 0;max-height:12rem;overflow:auto}
progress{width:100%;margin:0 0 .5rem}
.actions{display:flex;justify-content:flex-end;gap:.6rem}
.done p:first-child{font-size:1.15em;font-weight:600}
@media (prefers-color-scheme:dark){dialog{color-scheme:dark}.fab,dialog,button,input[type=text],input[type=email],textarea{background:#22252b;color:#eceff4}.terms{background:#2c3038}.hint{color:#b8bec8}.err{color:#ff8a8a}.primary,.primary:hover{background:#2f6ad0;color:#fff}.drop.over,button:hover{background:#2d3a52}summary{color:#8db4ff}:focus-visible,.stars label:has(:focus-visible){outline-color:#8db4ff}[aria-invalid=true]{border-color:#ff8a8a!important;box-shadow:0 0 0 1px #ff8a8a}}
`;

  let opts = {};
  let host = null;
  let root = null;
  let fab = null;
  let forms = {};
  let termsP = null;
  let limitsP = null;
  let current = null;

  const svc = () => {
    const s = opts.service || data.service;
    if (s) return String(s).replace(/\/+$/, '');
    // Default: where this script came from (…/widget/feedback.js → …).
    return script && script.src ? new URL('..', script.src).href.replace(/\/+$/, '') : location.origin;
  };
  const opt = (key, attr) => (opts[key] != null ? opts[key] : data[attr || key]);

  function lang() {
    for (const l of [opt('lang'), doc.documentElement.lang, navigator.language]) {
      const c = String(l || '').slice(0, 2).toLowerCase();
      if (STRINGS[c]) return c;
    }
    return 'en';
  }
  const strings = () => Object.assign({}, STRINGS.en, STRINGS[lang()], opts.strings);
  const fill = (text, vars) => String(text).replace(/\{(\w+)\}/g, (m, k) => (vars && vars[k] != null ? vars[k] : m));
  const size = (b) => (b >= 1048576 ? +(b / 1048576).toFixed(1) + ' MB' : b >= 1024 ? Math.round(b / 1024) + ' KB' : b + ' B');

  /** Builds an element: attributes (true → present, false/null → absent), listeners (functions), `text`. */
  function h(tag, attrs, kids) {
    const el = doc.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v == null || v === false) continue;
      if (k === 'text') el.textContent = v;
      else if (typeof v === 'function') el.addEventListener(k, v);
      else el.setAttribute(k, v === true ? '' : v);
    }
    for (const kid of [].concat(kids || [])) if (kid) el.append(kid);
    return el;
  }

  function getJSON(path) {
    return fetch(svc() + path, { credentials: 'omit', cache: 'no-store' }).then((r) =>
      r.ok ? r.json() : Promise.reject(new Error('HTTP ' + r.status)),
    );
  }
  function loadTerms(fresh) {
    if (fresh || !termsP) {
      const p = (termsP = getJSON('/api/v1/terms'));
      p.catch(() => termsP === p && (termsP = null));
    }
    return termsP;
  }
  function loadLimits() {
    if (!limitsP) {
      const p = (limitsP = getJSON('/api/v1/limits').then((l) => (limits = l)));
      p.catch(() => limitsP === p && (limitsP = null));
    }
    return limitsP;
  }

  function uuid() {
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    const x = Array.from(b, (v) => (v + 256).toString(16).slice(1)).join('');
    return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
  }

  /** Exactly the environment the terms disclose (the browser's brand is derived by the service). */
  function environment() {
    let url = location.href;
    // The service keeps no query or fragment; drop them here when they would make the URL too long.
    if (url.length > 2048) url = (location.origin + location.pathname).slice(0, 2048);
    return {
      webapp_version: String(opt('webappVersion') || ''),
      server_version: String(opt('serverVersion') || ''),
      screen_resolution: `${screen.width}x${screen.height}`,
      url,
    };
  }

  /** One POST; resolves to {status, text} (status 0: no answer, a network failure), never rejects. */
  function post(fields, files, key, progress) {
    const url = svc() + '/api/v1/feedback';
    if (!files.length) {
      return fetch(url, {
        method: 'POST',
        credentials: 'omit',
        headers: { 'Content-Type': 'application/json', 'Idempotency-Key': key },
        body: JSON.stringify(fields),
      })
        .then(async (r) => ({ status: r.status, text: await r.text() }))
        .catch(() => ({ status: 0 }));
    }
    const body = new FormData();
    for (const [k, v] of Object.entries(fields)) body.append(k, String(v));
    for (const f of files) body.append('attachment', f, f.name);
    return new Promise((resolve) => {
      const x = new XMLHttpRequest();
      x.open('POST', url);
      x.setRequestHeader('Idempotency-Key', key);
      x.upload.onprogress = (e) => e.lengthComputable && progress(e.loaded / e.total);
      x.onload = () => resolve({ status: x.status, text: x.responseText });
      x.onerror = x.onabort = x.ontimeout = () => resolve({ status: 0 });
      x.send(body);
    });
  }

  function mount() {
    if (host || !doc.body) return;
    host = h('div', { 'data-feedback-widget': true });
    root = host.attachShadow({ mode: 'open' });
    if (root.adoptedStyleSheets && window.CSSStyleSheet) {
      // A constructed sheet: allowed under a strict style-src, unlike <style> or style="".
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    }
    doc.body.append(host);
  }

  /** (Re)applies the configuration: the floating button, and forms rebuilt in the right language. */
  function apply() {
    mount();
    if (!root) return;
    for (const k in forms) if (!forms[k].dlg.open) forms[k].dlg.remove(), delete forms[k];
    const floating = opts.floatingButton != null ? opts.floatingButton : data.floatingButton != null;
    if (fab) fab.remove(), (fab = null);
    if (floating) {
      fab = h('button', { type: 'button', class: 'fab', 'aria-haspopup': 'dialog', text: strings().launcher, click: () => open('feedback', fab) });
      root.prepend(fab);
    }
    for (const el of doc.querySelectorAll('[data-feedback-open]')) el.setAttribute('aria-haspopup', 'dialog');
  }

  function build(kind) {
    const s = strings();
    const id = (n) => `fw-${kind}-${n}`;
    const button = kind === 'feedback' ? 'send' : 'submit';
    const fields = {};
    let files = [];
    let openedAt = Date.now();
    let busy = false;

    /** A labelled control with its hint and its error line, tied together for assistive technology. */
    function field(name, label, control, hint, labelEl) {
      const err = h('p', { class: 'err', id: id(name + '-err'), hidden: true });
      const hintEl = hint && h('p', { class: 'hint', id: id(name + '-hint'), text: hint });
      control.id = id(name);
      control.setAttribute('aria-describedby', (hint ? id(name + '-hint') + ' ' : '') + err.id);
      fields[name] = { control, err };
      const wrap = h(labelEl ? 'fieldset' : 'div', { class: 'f' }, [
        labelEl || h('label', { for: control.id, text: label }),
        hintEl,
        control,
        err,
      ]);
      return { wrap, hintEl };
    }

    const title = h('h2', { id: id('title'), text: s['title_' + kind] });
    const closeX = h('button', { type: 'button', class: 'x', 'aria-label': s.close, text: '×', click: () => close() });
    const parts = [h('p', { text: s['intro_' + kind] })];

    let rating = null;
    if (kind === 'feedback') {
      rating = h('div', { class: 'stars', role: 'radiogroup', 'aria-labelledby': id('rating-legend') });
      for (let n = 1; n <= 5; n++) {
        rating.append(h('label', {}, [h('input', { type: 'radio', name: 'rating', value: n }), String(n)]));
      }
      const legend = h('legend', { id: id('rating-legend'), text: s.rating });
      parts.push(field('rating', s.rating, rating, s.rating_hint, legend).wrap);
    }
    let summary = null;
    if (kind !== 'feedback') {
      summary = h('input', { type: 'text', maxlength: 200, autocomplete: 'off' });
      parts.push(field('summary', s.summary, summary).wrap);
    }
    const message = h('textarea', { rows: 5, maxlength: 10000, required: true, 'aria-required': 'true' });
    parts.push(field('message', s['message_' + kind], message).wrap);

    const picker = h('input', { type: 'file', multiple: true, change: () => (addFiles(picker.files), (picker.value = '')) });
    const list = h('ul', { class: 'files', 'aria-live': 'polite' });
    const att = field('attachment', s.attachment, picker, ' ');
    const drop = h('div', { class: 'drop' }, [att.wrap.firstChild, att.hintEl, picker, list, fields.attachment.err]);
    att.wrap.append(drop);
    const hint = () => (att.hintEl.textContent = fill(s.attachment_hint, {
      n: limits.max_attachments,
      size: size(limits.max_attachment_bytes),
      total: size(limits.max_total_attachment_bytes),
    }));
    hint();
    parts.push(att.wrap);

    const name = h('input', { type: 'text', maxlength: 200, autocomplete: 'name' });
    const email = h('input', { type: 'email', maxlength: 254, autocomplete: 'email', spellcheck: 'false' });
    parts.push(field('contact_name', s.contact_name, name).wrap, field('contact_email', s.contact_email, email, s.contact_hint).wrap);
    // A honeypot for form-filling bots: people never see it, so never fill it (spam signal).
    const trapField = h('input', { name: 'website', hidden: true, tabindex: '-1', autocomplete: 'off', 'aria-hidden': 'true' });
    parts.push(trapField);

    const termsNote = h('p', { id: id('terms'), text: s.terms_loading });
    const termsText = h('p', { class: 'text' });
    const envText = h('p', { class: 'hint' });
    const terms = h('div', { class: 'terms' }, [
      termsNote,
      h('details', {}, [h('summary', { text: s.terms_show }), termsText, envText]),
    ]);
    const general = h('p', { class: 'err', role: 'alert', id: id('general') });
    const progress = h('progress', { max: 1, hidden: true, 'aria-label': s.sending });
    const go = h('button', { type: 'submit', class: 'primary', 'aria-describedby': id('terms'), text: s[button] });
    parts.push(
      terms,
      general,
      progress,
      h('div', { class: 'actions' }, [h('button', { type: 'button', text: s.cancel, click: () => close() }), go]),
    );
    const form = h('form', { novalidate: true, submit: (e) => (e.preventDefault(), send()) }, parts);

    const doneText = h('p');
    const doneClose = h('button', { type: 'button', class: 'primary', text: s.close, click: () => close() });
    // While the confirmation is open, the person can take the feedback back (its one-time token
    // is held only here, in memory).
    let receipt = null;
    const withdraw = h('button', { type: 'button', hidden: true, text: s.withdraw, click: () => withdrawNow() });
    const done = h('div', { class: 'done', hidden: true, role: 'status' }, [
      h('p', { text: s.thanks }),
      doneText,
      h('div', { class: 'actions' }, [withdraw, doneClose]),
    ]);

    async function withdrawNow() {
      if (!receipt || withdraw.getAttribute('aria-disabled')) return;
      withdraw.setAttribute('aria-disabled', 'true');
      const r = await fetch(svc() + '/api/v1/feedback/' + encodeURIComponent(receipt.id) + '/withdraw', {
        method: 'POST',
        credentials: 'omit',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ token: receipt.withdraw_token }),
      }).catch(() => null);
      withdraw.removeAttribute('aria-disabled');
      if (r && r.ok) {
        receipt = null;
        withdraw.hidden = true;
        doneText.textContent = s.withdrawn;
        doneClose.focus();
      } else {
        doneText.textContent = s.withdraw_failed;
      }
    }

    const dlg = h('dialog', {
      role: 'dialog',
      'aria-modal': 'true',
      'aria-labelledby': title.id,
      class: 'fw-' + kind,
      'data-kind': kind,
      keydown: trap,
      // Only the dialog's own cancel (Esc) closes it: a file picker dismissed without a choice
      // fires a bubbling `cancel` at its input, which must leave the form open.
      cancel: (e) => e.target === e.currentTarget && (e.preventDefault(), close()),
      dragover: (e) => (e.preventDefault(), drop.classList.add('over')),
      dragleave: (e) => e.target === drop && drop.classList.remove('over'),
      drop: (e) => {
        e.preventDefault();
        drop.classList.remove('over');
        if (!busy && !form.hidden && e.dataTransfer) addFiles(e.dataTransfer.files);
      },
    }, [h('header', {}, [title, closeX]), form, done]);
    root.append(dlg);

    function showTerms(t) {
      termsNote.textContent = fill(s.terms, { button: s[button], version: t.version });
      termsText.textContent = t.text;
    }

    function setError(name, text) {
      const f = fields[name];
      if (!f) {
        general.textContent = (general.textContent ? general.textContent + ' ' : '') + text;
        return;
      }
      f.err.textContent = (f.err.textContent ? f.err.textContent + ' ' : '') + text;
      f.err.hidden = false;
      f.control.setAttribute('aria-invalid', 'true');
    }
    function clearErrors() {
      general.textContent = '';
      for (const k in fields) {
        fields[k].err.textContent = '';
        fields[k].err.hidden = true;
        fields[k].control.removeAttribute('aria-invalid');
      }
    }

    function renderFiles() {
      list.replaceChildren(
        ...files.map((f, i) =>
          h('li', {}, [
            h('span', { text: `${f.name} (${size(f.size)})` }),
            h('button', {
              type: 'button',
              'aria-label': fill(s.remove_file, { name: f.name }),
              text: s.remove,
              click: () => {
                if (busy) return;
                files.splice(i, 1);
                renderFiles();
                const next = list.querySelectorAll('button')[Math.min(i, files.length - 1)];
                (next || picker).focus();
              },
            }),
          ]),
        ),
      );
    }

    /** Refuses, before anything is uploaded, the files that break the service's limits. */
    function addFiles(picked) {
      fields.attachment.err.hidden = true;
      fields.attachment.err.textContent = '';
      picker.removeAttribute('aria-invalid');
      for (const f of Array.from(picked || [])) {
        const total = files.reduce((sum, x) => sum + x.size, 0);
        if (files.length >= limits.max_attachments) {
          setError('attachment', fill(s.err_count, { n: limits.max_attachments }));
          break;
        }
        if (!f.size) setError('attachment', fill(s.err_empty_file, { name: f.name }));
        else if (f.size > limits.max_attachment_bytes)
          setError('attachment', fill(s.err_size, { name: f.name, size: size(limits.max_attachment_bytes) }));
        else if (total + f.size > limits.max_total_attachment_bytes)
          setError('attachment', fill(s.err_total, { total: size(limits.max_total_attachment_bytes) }));
        else files.push(f);
      }
      renderFiles();
    }

    function collect(version) {
      const out = { kind };
      const add = (k, v) => v !== '' && v != null && (out[k] = v);
      if (summary) add('summary', summary.value.trim());
      out.message = message.value;
      const r = rating && rating.querySelector(':checked');
      if (r) out.rating = +r.value;
      for (const [k, v] of Object.entries(environment())) add(k, v);
      out.terms_version = version;
      out.terms_accepted = true;
      out.button = button;
      add('contact_name', name.value.trim());
      add('contact_email', email.value.trim());
      add('website', trapField.value);
      out.form_ms = Math.max(0, Date.now() - openedAt); // spam signal: how long the form was open
      return out;
    }

    function firstInvalid() {
      const bad = form.querySelector('[aria-invalid=true]');
      if (!bad) return;
      (bad.matches('input,textarea') ? bad : bad.querySelector('input')).focus();
    }

    async function send() {
      if (busy) return;
      clearErrors();
      let t;
      try {
        t = await loadTerms();
      } catch (e) {
        return setError(null, s.terms_failed);
      }
      showTerms(t);
      await loadLimits().catch(() => 0);
      const check = files;
      files = [];
      addFiles(check); // re-checked against the limits the service announced
      if (files.length !== check.length) return firstInvalid();

      busy = true;
      go.setAttribute('aria-disabled', 'true');
      form.setAttribute('aria-busy', 'true');
      progress.hidden = false;
      progress.removeAttribute('value');
      const key = uuid(); // one per submission: a retry can never store it twice
      const body = collect(t.version);
      let r;
      for (let attempt = 0; ; attempt++) {
        r = await post(body, files, key, (p) => (progress.value = p));
        if (r.status || attempt >= 2) break;
        await new Promise((ok) => setTimeout(ok, 1000 * (attempt + 1)));
      }
      busy = false;
      go.removeAttribute('aria-disabled');
      form.removeAttribute('aria-busy');
      progress.hidden = true;
      answer(r);
    }

    function answer(r) {
      let p = {};
      try {
        p = JSON.parse(r.text || '{}') || {};
      } catch (e) {
        /* not JSON: handled by status below */
      }
      if (r.status === 201) {
        doneText.textContent = fill(s.received, { id: p.id });
        receipt = p.withdraw_token ? { id: p.id, withdraw_token: p.withdraw_token } : null;
        withdraw.hidden = !receipt;
        form.hidden = true;
        done.hidden = false;
        doneClose.focus();
        return;
      }
      if (!r.status) return setError(null, s.err_network);
      if (r.status === 429 || r.status === 503) return setError(null, s.err_busy);
      if (p.code === 'terms_outdated') {
        loadTerms(true).then(showTerms, () => 0);
        return setError(null, fill(s.err_terms, { button: s[button] }));
      }
      const errs = Array.isArray(p.errors) ? p.errors : [];
      let marked = false;
      for (const e of errs) {
        const known = fields[e.field];
        const text = s['code_' + e.code] || String(e.message || e.code);
        // Fields without a control (the environment) are the host page's to fix: named as sent.
        setError(known && e.field, known ? text[0].toUpperCase() + text.slice(1) : `${e.field}: ${text}`);
        marked = marked || !!known;
      }
      const fileProblem = r.status === 413 || p.code === 'attachment_type_not_allowed';
      if (fileProblem && !errs.some((e) => e.field === 'attachment')) {
        setError('attachment', p.detail || p.title || fill(s.err_generic, { status: r.status }));
        marked = true;
      }
      if (marked) {
        if (!general.textContent) setError(null, s.err_fix);
        firstInvalid();
      } else if (!errs.length) {
        setError(null, p.detail || p.title || fill(s.err_generic, { status: r.status }));
      }
    }

    function reset() {
      form.reset();
      files = [];
      renderFiles();
      clearErrors();
      form.hidden = false;
      done.hidden = true;
      receipt = null;
      withdraw.hidden = true;
    }

    function show() {
      if (!done.hidden) reset();
      const env = environment();
      envText.textContent = fill(s.env, {
        webapp: env.webapp_version || '–',
        server: env.server_version || '–',
        screen: env.screen_resolution,
        url: env.url.replace(/[?#].*$/, ''),
      });
      loadTerms().then(showTerms, () => (termsNote.textContent = s.terms_failed));
      loadLimits().then(hint, () => 0);
      openedAt = Date.now();
      dlg.showModal();
      (summary || (rating && rating.querySelector('input')) || message).focus();
    }

    return { dlg, show };
  }

  /** Keeps Tab inside the open dialog; Esc closes it. */
  function trap(e) {
    const dlg = e.currentTarget;
    if (e.key === 'Escape') {
      e.preventDefault();
      return close();
    }
    if (e.key !== 'Tab') return;
    const all = Array.from(
      dlg.querySelectorAll('button,input,textarea,summary,[tabindex]:not([tabindex="-1"])'),
    ).filter((el) => !el.disabled && el.getClientRects().length);
    const first = all[0];
    const last = all[all.length - 1];
    const active = root.activeElement;
    if (e.shiftKey ? active === first || active === dlg : active === last || !dlg.contains(active)) {
      e.preventDefault();
      (e.shiftKey ? last : first).focus();
    }
  }

  function deepActive() {
    let a = doc.activeElement;
    while (a && a.shadowRoot && a.shadowRoot.activeElement) a = a.shadowRoot.activeElement;
    return a;
  }

  function open(kind, opener) {
    if (!KINDS.includes(kind)) throw new Error('FeedbackWidget.open: unknown form ' + kind);
    mount();
    if (!root) throw new Error('FeedbackWidget: the document has no body yet');
    if (current) close(true);
    const f = forms[kind] || (forms[kind] = build(kind));
    current = { f, opener: opener || deepActive() };
    f.show();
  }

  function close(keepFocus) {
    if (!current) return;
    const { f, opener } = current;
    current = null;
    if (f.dlg.open) f.dlg.close();
    if (!keepFocus && opener && opener.isConnected && opener.focus) opener.focus();
  }

  doc.addEventListener('click', (e) => {
    const el = e.target && e.target.closest && e.target.closest('[data-feedback-open]');
    if (!el) return;
    e.preventDefault();
    open(el.getAttribute('data-feedback-open') || 'feedback', el);
  });

  const api = {
    /** Configures the widget: {service, webappVersion, serverVersion, lang, strings, floatingButton}. */
    init(o) {
      opts = Object.assign({}, opts, o);
      if (o && 'service' in o) (termsP = null), (limitsP = null);
      if (doc.body) apply();
      return api;
    },
    open: (kind) => open(kind || 'feedback'),
    close: () => close(),
  };
  window.FeedbackWidget = api;

  if (doc.readyState === 'loading') doc.addEventListener('DOMContentLoaded', apply);
  else apply();
})();
