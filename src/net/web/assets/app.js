// Strata's web page: study list (QIDO-RS), study page (series, thumbnails, tiers), a simple
// viewer (rendered frames, window/level, slice scrolling) and the archive page (/api/).
// Plain DOM, no framework, no build step. Every value from the archive goes in as text.
'use strict';

const PAGE = 25;
const app = document.getElementById('app');
const auth = { header: sessionStorage.getItem('strata-auth') || '' };
// The site's time zone (web.time_zone, from /api/stats): every time is written in it, ISO 8601.
const site = { zone: 'UTC', ready: null };
let inflight = 0;

// ---- helpers ---------------------------------------------------------------------------
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}
function busy(delta) {
  inflight += delta;
  document.getElementById('busy').hidden = inflight <= 0;
}
// Sign-in (auth on): the credentials go once to /api/session, which answers with an HttpOnly
// session cookie; every later request of the page (and of OHIF at /viewer) carries the cookie.
// Requests refused at once share one dialog.
let signingIn = null;
function signIn() {
  if (!signingIn) signingIn = askAndSignIn().finally(() => { signingIn = null; });
  return signingIn;
}
async function askAndSignIn() {
  const dlg = document.getElementById('auth-dialog');
  const field = (id) => document.getElementById(id);
  for (;;) {
    field('auth-password').value = '';
    field('auth-token').value = '';
    dlg.showModal();
    await new Promise((resolve) => dlg.addEventListener('close', resolve, { once: true }));
    const token = field('auth-token').value.trim();
    const user = field('auth-user').value;
    const basic = () => 'Basic ' + btoa(String.fromCharCode(...new TextEncoder().encode(user + ':' + field('auth-password').value)));
    const authorization = token ? 'Bearer ' + token : user ? basic() : '';
    if (!authorization) { field('auth-error').textContent = 'Enter a user and password, or a token.'; continue; }
    const r = await fetch('/api/session', { method: 'POST', headers: { Authorization: authorization, 'X-Strata-Request': '1' } });
    const answer = await r.text();  // read whole: the request is done, not cut off by a later navigation
    if (r.ok) { field('auth-error').textContent = ''; auth.header = ''; sessionStorage.removeItem('strata-auth'); return; }
    let msg = r.status + ' ' + r.statusText;
    try { msg = JSON.parse(answer).error || msg; } catch (e) { /* not JSON */ }
    field('auth-error').textContent = 'Not signed in: ' + msg;
  }
}
async function get(url, accept, retried) {
  // X-Strata-Request: the server refuses a cookie-only change without it (CSRF, session.h).
  const headers = { Accept: accept || 'application/json', 'X-Strata-Request': '1' };
  if (auth.header) headers.Authorization = auth.header;
  busy(1);
  try {
    const r = await fetch(url, { headers });
    if (r.status === 401 && !retried) {
      await signIn();
      return get(url, accept, true);
    }
    if (!r.ok) {
      let msg = r.status + ' ' + r.statusText;
      try { msg = (await r.json()).error || msg; } catch (e) { /* not JSON */ }
      throw new Error(msg);
    }
    return r;
  } finally {
    busy(-1);
  }
}
const getJson = async (url, accept) => (await get(url, accept)).json();
// /api/studies: one page of studies and the number of matches (X-Total-Count).
async function studyPage(query) {
  const r = await get('/api/studies?' + query);
  return { studies: await r.json(), total: Number(r.headers.get('X-Total-Count') || 0) };
}
const qido = (path) => getJson('/dicomweb' + path, 'application/dicom+json');
async function imageUrl(url, accept) {
  const blob = await (await get(url, accept || 'image/jpeg')).blob();
  return URL.createObjectURL(blob);
}
// DICOM JSON accessors.
function val(ds, tag) {
  const a = ds && ds[tag];
  if (!a || !a.Value || !a.Value.length) return '';
  const v = a.Value[0];
  if (v && typeof v === 'object') return v.Alphabetic || v.Ideographic || v.Phonetic || '';
  return v;
}
const vals = (ds, tag) => (ds && ds[tag] && ds[tag].Value) || [];
const T = {
  PatientName: '00100010', PatientID: '00100020', BirthDate: '00100030', Sex: '00100040',
  StudyUID: '0020000D', StudyDate: '00080020', StudyTime: '00080030', Accession: '00080050',
  StudyDescription: '00081030', Modalities: '00080061', NumSeries: '00201206', NumStudyInstances: '00201208',
  SeriesUID: '0020000E', Modality: '00080060', SeriesNumber: '00200011', SeriesDescription: '0008103E',
  NumSeriesInstances: '00201209', SOPUID: '00080018', InstanceNumber: '00200013', Rows: '00280010',
  Columns: '00280011', Frames: '00280008', WindowCenter: '00281050', WindowWidth: '00281051',
  Referring: '00080090', StudyID: '00200010',
};
// A person name for people: "Family, Given"; the ideographic and phonetic groups of a
// PN ("Yamada^Tarou=山田^太郎=やまだ^たろう") follow in parentheses.
const pnGroup = (g) => g.replace(/\^+$/, '').replace(/\^/g, ', ').replace(/, ,/g, ',').replace(/, $/, '');
function pn(s) {
  const groups = String(s || '').split('=').map(pnGroup);
  const rest = groups.slice(1).filter(Boolean);
  return rest.length ? `${groups[0]} (${rest.join(' / ')})` : groups[0];
}
const da = (s) => (s && s.length === 8 ? `${s.slice(0, 4)}-${s.slice(4, 6)}-${s.slice(6)}` : s || '');
const tm = (s) => (s && s.length >= 4 ? `${s.slice(0, 2)}:${s.slice(2, 4)}` : s || '');
function bytes(n) {
  n = Number(n) || 0;
  const u = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1000 && i < u.length - 1) { n /= 1000; i++; }
  return (i ? n.toFixed(n < 10 ? 2 : 1) : n) + ' ' + u[i];
}
// "2026-12-02 14:03:11" in the site's zone (the sv-SE locale writes ISO 8601 dates).
function when(ms) {
  if (!ms) return '';
  try {
    return new Intl.DateTimeFormat('sv-SE', { timeZone: site.zone, year: 'numeric', month: '2-digit', day: '2-digit',
      hour: '2-digit', minute: '2-digit', second: '2-digit', hour12: false }).format(new Date(Number(ms)));
  } catch (e) {
    return new Date(Number(ms)).toISOString().replace('T', ' ').slice(0, 19) + ' UTC';
  }
}
// Grouped digits the same in every browser locale: 12 345.
const num = (n) => String(Math.round(Number(n || 0))).replace(/\B(?=(\d{3})+(?!\d))/g, '\u202f');
const dateTime = (d, t) => [da(d), tm(t)].filter(Boolean).join(' ');
async function loadSite() {
  if (!site.ready) {
    site.ready = getJson('/api/stats').then((s) => { if (s.time_zone) site.zone = s.time_zone; })
      .catch(() => { site.ready = null; });
  }
  return site.ready;
}
// Where to open a study in OHIF (the viewer mode's route, same origin).
const ohifUrl = (study) => '/viewer?StudyInstanceUIDs=' + encodeURIComponent(study);
// A study whose latest migration failed: a badge with the explanation as its tooltip.
function problemBadge(x) {
  if (!x || !x.problem) return null;
  return h('span', { class: 'badge failed', title: `${x.problem.summary}. ${x.problem.action}` }, 'migration failed');
}
function problemBox(p) {
  return h('div', { class: 'problem' }, h('strong', {}, 'Migration to the cold store failed: '), p.summary, '.',
    h('div', {}, p.action), h('div', { class: 'muted mono small' }, `Recorded ${when(p.when_ms)}, attempt ${p.attempts}: `,
      p.detail));
}
// A study named for people: patient, date, description; its UID only as a tooltip.
function studyLabel(x) {
  return h('span', { title: x.study_uid }, h('strong', {}, pn(x.patient_name) || '(no name)'), ' · ',
    h('span', { class: 'nowrap' }, da(x.study_date) || 'no date'), x.description ? ' · ' + x.description : '');
}
function tierBadge(tier) {
  const label = { hot: 'hot', packed: 'packed', mixed: 'both' }[tier] || tier;
  return h('span', { class: 'badge ' + tier, title: 'storage tier' }, label);
}
function codecBadges(syntaxes) {
  return (syntaxes || []).filter((s) => s.compressed).map((s) => h('span', { class: 'badge codec' }, s.name));
}
function showError(where, e) {
  where.prepend(h('div', { class: 'error' }, String(e && e.message ? e.message : e)));
}
function hashParams() {
  const q = location.hash.indexOf('?');
  return new URLSearchParams(q >= 0 ? location.hash.slice(q + 1) : '');
}

// ---- study list ------------------------------------------------------------------------
async function studiesView() {
  const p = hashParams();
  const page = Math.max(0, Number(p.get('page') || 0));
  const f = (name) => p.get(name) || '';
  const form = h('form', { class: 'search panel', id: 'search' },
    h('label', {}, 'Patient name', h('input', { name: 'name', value: f('name'), placeholder: 'e.g. Doe' })),
    h('label', {}, 'Patient ID', h('input', { name: 'id', value: f('id') })),
    h('label', {}, 'Study date from', h('input', { name: 'from', value: f('from'), placeholder: 'YYYY-MM-DD',
      pattern: '\\d{4}-\\d{2}-\\d{2}', title: 'a date as YYYY-MM-DD' })),
    h('label', {}, 'to', h('input', { name: 'to', value: f('to'), placeholder: 'YYYY-MM-DD',
      pattern: '\\d{4}-\\d{2}-\\d{2}', title: 'a date as YYYY-MM-DD' })),
    h('label', {}, 'Modality', h('select', { name: 'mod' },
      ['', 'CT', 'MR', 'CR', 'DX', 'MG', 'US', 'NM', 'PT', 'XA', 'SC', 'OT'].map((m) =>
        h('option', { value: m, selected: m === f('mod') }, m || 'any')))),
    h('label', {}, 'Accession', h('input', { name: 'acc', value: f('acc') })),
    h('div', { class: 'buttons' },
      h('button', { class: 'primary', type: 'submit' }, 'Search'),
      h('button', { type: 'button', onclick: () => { location.hash = '#/'; } }, 'Clear')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, v);
    location.hash = '#/?' + q.toString();
  });
  const results = h('div', { class: 'panel', id: 'results' }, h('div', { class: 'empty' }, 'Searching…'));
  app.replaceChildren(form, results);

  const q = new URLSearchParams({ limit: PAGE, offset: page * PAGE });
  for (const k of ['name', 'id', 'acc', 'mod']) if (f(k)) q.set(k, f(k));
  if (f('from') || f('to')) q.set('date', `${f('from').replace(/-/g, '')}-${f('to').replace(/-/g, '')}`);
  let list;
  try {
    [list] = await Promise.all([studyPage(q.toString()), loadSite()]);
  } catch (e) {
    results.replaceChildren();
    return showError(results, e);
  }
  const studies = list.studies;
  const more = page * PAGE + studies.length < list.total;
  const go = (n) => { p.set('page', n); location.hash = '#/?' + p.toString(); };
  const pager = h('div', { class: 'pager' },
    h('button', { type: 'button', disabled: page === 0, onclick: () => go(page - 1) }, '‹ Previous'),
    h('span', { class: 'muted' }, studies.length
      ? `Studies ${page * PAGE + 1}–${page * PAGE + studies.length} of ${num(list.total)}, newest first` : 'No studies'),
    h('button', { type: 'button', disabled: !more, onclick: () => go(page + 1) }, 'Next ›'));
  if (!studies.length) {
    results.replaceChildren(h('div', { class: 'empty' }, 'No study matches.'), pager);
    return;
  }
  const ratio = (s) => (s.pack_bytes && s.cold_bytes ? ` (${(s.bytes / s.pack_bytes).toFixed(1)}:1)` : '');
  const rows = studies.map((s) => h('tr', {
    class: 'link study-row' + (s.problem ? ' failed' : ''), dataset: { uid: s.study_uid, tier: s.tier },
    onclick: (ev) => { if (!ev.target.closest('a')) location.hash = '#/study/' + s.study_uid; },
  },
  h('td', { class: 'patient' }, pn(s.patient_name) || h('span', { class: 'muted' }, '(no name)')),
  h('td', {}, s.patient_id),
  h('td', { class: 'date nowrap' }, dateTime(s.study_date, s.study_time)),
  h('td', {}, s.description),
  h('td', {}, String(s.modalities || '').split('\\').join(', ')),
  h('td', { class: 'tier' }, tierBadge(s.tier), ' ', problemBadge(s)),
  h('td', { class: 'num received' }, bytes(s.bytes)),
  h('td', { class: 'num packed' }, s.pack_bytes ? bytes(s.pack_bytes) + ratio(s) : h('span', { class: 'muted' }, '—')),
  h('td', { class: 'num' }, s.series),
  h('td', { class: 'num' }, num(s.instances)),
  h('td', {}, h('a', { class: 'ohif', href: ohifUrl(s.study_uid), title: 'Open the study in the OHIF Viewer' }, 'Open in OHIF'))));
  results.replaceChildren(h('table', { id: 'studies' },
    h('thead', {}, h('tr', {}, ['Patient', 'Patient ID', 'Study date', 'Description', 'Modalities', 'Tier']
      .map((t) => h('th', {}, t)), ['Received', 'In packs', 'Series', 'Instances'].map((t) => h('th', { class: 'num' }, t)),
    h('th', {}, 'Viewer'))),
    h('tbody', {}, rows)), pager);
}

// ---- study page ------------------------------------------------------------------------
async function studyView(study) {
  app.replaceChildren(h('div', { class: 'panel' }, h('div', { class: 'empty' }, 'Loading study…')));
  let info, series, tiers;
  try {
    [info, series, tiers] = await Promise.all([
      qido('/studies?StudyInstanceUID=' + encodeURIComponent(study) + '&includefield=all'),
      qido('/studies/' + study + '/series?includefield=all'),
      getJson('/api/studies/' + study + '/tiers'),
      loadSite(),
    ]);
  } catch (e) {
    app.replaceChildren();
    return showError(app, e);
  }
  const s = info[0] || {};
  const fact = (label, value) => h('div', { class: 'fact' }, h('span', {}, label), value || '—');
  const head = h('div', { class: 'panel' },
    h('div', { class: 'study-head' },
      h('div', {}, h('h1', {}, pn(val(s, T.PatientName)) || '(no name)'),
        h('div', { class: 'muted' }, val(s, T.StudyDescription) || 'Study')),
      h('div', { class: 'facts' },
        fact('Patient ID', val(s, T.PatientID)), fact('Birth date', da(val(s, T.BirthDate))),
        fact('Sex', val(s, T.Sex)), fact('Study date', `${da(val(s, T.StudyDate))} ${tm(val(s, T.StudyTime))}`),
        fact('Accession', val(s, T.Accession)), fact('Referring', pn(val(s, T.Referring))),
        fact('Series / instances', `${tiers.series.length} / ${num(tiers.instances)}`),
        fact('Size', bytes(tiers.bytes)))),
    h('div', { style: 'margin-top:10px' }, tierBadge(tiers.tier), ' ', problemBadge(tiers), codecBadges(tiers.syntaxes),
      h('span', { class: 'muted' }, ` ${num(tiers.hot_instances)} on the hot tier, ${num(tiers.cold_instances)} in ` +
        `${tiers.pack_objects.length} pack(s)`)),
    tiers.problem ? problemBox(tiers.problem) : null,
    h('div', { style: 'margin-top:10px' }, h('a', { class: 'button primary ohif', href: ohifUrl(study) }, 'Open in OHIF')),
    h('div', { class: 'mono muted small', style: 'margin-top:6px' }, 'Study Instance UID ', study));
  const byUid = Object.fromEntries(series.map((x) => [val(x, T.SeriesUID), x]));
  const cards = tiers.series.map((t) => {
    const q = byUid[t.series_uid] || {};
    const img = h('img', { alt: 'thumbnail of series ' + (t.series_number || ''), class: 'thumbnail' });
    imageUrl(`/dicomweb/studies/${study}/series/${t.series_uid}/thumbnail?viewport=256,256`, 'image/jpeg')
      .then((u) => { img.src = u; })
      .catch(() => { img.alt = 'no preview'; });
    return h('div', { class: 'series-card', dataset: { uid: t.series_uid } },
      h('a', { class: 'thumb', href: `#/view/${study}/${t.series_uid}` }, img),
      h('div', { class: 'body' },
        h('div', { class: 'title' }, `${t.modality || val(q, T.Modality)} · Series ${t.series_number || '—'}`),
        h('div', {}, t.description || val(q, T.SeriesDescription) || h('span', { class: 'muted' }, '(no description)')),
        h('div', { class: 'muted' }, `${num(t.instances)} instance${t.instances === 1 ? '' : 's'} · ${bytes(t.bytes)}`),
        h('div', {}, tierBadge(t.tier), codecBadges(t.syntaxes))),
      h('div', { class: 'foot' }, h('a', { href: `#/view/${study}/${t.series_uid}` }, 'Open viewer ›')));
  });
  app.replaceChildren(head, h('div', { class: 'series-grid' }, cards));
}

// ---- viewer ----------------------------------------------------------------------------
// Window presets per modality (centre, width in the modality's units). CT's are in HU; other
// modalities have no fixed scale, so they get the image's own window only.
const PRESETS = {
  CT: [['Soft tissue', [40, 400]], ['Lung', [-600, 1500]], ['Bone', [400, 1800]], ['Brain', [40, 80]],
    ['Abdomen', [60, 400]], ['Mediastinum', [50, 350]]],
  PT: [['SUV 0–5', [2.5, 5]], ['SUV 0–10', [5, 10]]],
};
const presetsFor = (modality) => PRESETS[modality] || [];

async function viewerView(study, seriesUid) {
  app.replaceChildren(h('div', { class: 'panel' }, h('div', { class: 'empty' }, 'Loading series…')));
  let instances, meta;
  const bySop = new Map();
  try {
    instances = await qido(`/studies/${study}/series/${seriesUid}/instances`);
    instances.sort((a, b) => Number(val(a, T.InstanceNumber) || 0) - Number(val(b, T.InstanceNumber) || 0));
    const mid = instances[Math.floor(instances.length / 2)];
    // The series' metadata (cached by the server): window, and each slice's position.
    const all = await getJson(`/dicomweb/studies/${study}/series/${seriesUid}/metadata`, 'application/dicom+json');
    for (const m of all) bySop.set(val(m, T.SOPUID), m);
    meta = bySop.get(val(mid, T.SOPUID)) || all[0];
  } catch (e) {
    app.replaceChildren();
    return showError(app, e);
  }
  if (!instances.length) { app.replaceChildren(h('div', { class: 'empty' }, 'No instances.')); return; }
  const imgDefault = [Number(val(meta, T.WindowCenter)), Number(val(meta, T.WindowWidth))];
  const hasDefault = Number.isFinite(imgDefault[0]) && imgDefault[1] > 0;
  const mono = String(val(meta, '00280004')).startsWith('MONOCHROME');
  const modality = String(val(meta, T.Modality) || '');
  const state = {
    index: Math.floor(instances.length / 2),
    center: hasDefault ? imgDefault[0] : 40, width: hasDefault ? imgDefault[1] : 400,
    custom: false, token: 0, cache: new Map(),
  };
  const img = h('img', { id: 'frame', alt: 'rendered image' });
  const tl = h('div', { class: 'overlay tl' }), tr = h('div', { class: 'overlay tr' });
  const bl = h('div', { class: 'overlay bl' }), br = h('div', { class: 'overlay br' });
  const stage = h('div', { class: 'stage', id: 'stage' }, img, tl, tr, bl, br);
  const slice = h('input', { type: 'range', id: 'slice', min: 1, max: instances.length, value: state.index + 1 });
  // Slider ranges in the modality's units: HU for CT, the stored value range otherwise.
  const top = 2 ** Math.min(16, Number(val(meta, '00280101')) || 12);
  const [cMin, cMax, wMax] = modality === 'CT' ? [-1200, 3000, 4000] : [0, top, top];
  const center = h('input', { type: 'range', id: 'wc', min: cMin, max: cMax, step: 1, value: state.center });
  const width = h('input', { type: 'range', id: 'ww', min: 1, max: wMax, step: 1, value: state.width });
  const centerNum = h('input', { type: 'number', value: state.center, style: 'width:90px' });
  const widthNum = h('input', { type: 'number', value: state.width, min: 1, style: 'width:90px' });
  const controls = h('div', { class: 'panel controls' },
    h('h2', {}, val(meta, T.SeriesDescription) || 'Series'),
    h('div', { class: 'field' }, h('span', {}, 'Slice'), slice),
    mono ? [
      h('div', { class: 'field' }, h('span', {}, 'Window centre (level)'), center, centerNum),
      h('div', { class: 'field' }, h('span', {}, 'Window width'), width, widthNum),
      h('div', { class: 'presets', id: 'presets' }, [hasDefault ? ['Image', null] : null, ...presetsFor(modality)]
        .filter(Boolean).map(([name, v]) =>
          h('button', { type: 'button', onclick: () => setWindow(v ? v[0] : imgDefault[0], v ? v[1] : imgDefault[1], !!v) },
            name))),
    ] : h('p', { class: 'hint' }, 'Colour image: window/level does not apply.'),
    h('p', { class: 'hint' }, 'Scroll the mouse wheel or use ↑/↓ to move through slices; drag on the image to ' +
      'change the window (left/right: width, up/down: level).'),
    h('p', {}, h('a', { class: 'ohif', href: ohifUrl(study) }, 'Open in OHIF')),
    h('p', {}, h('a', { href: '#/study/' + study }, '‹ Back to the study')));
  app.replaceChildren(h('div', { class: 'viewer' }, stage, controls));

  const key = (i) => `${i}|${state.custom ? `${state.center},${state.width}` : 'image'}`;
  function url(i) {
    const sop = val(instances[i], T.SOPUID);
    const w = state.custom || !hasDefault ? `&window=${Math.round(state.center)},${Math.round(state.width)},linear` : '';
    return `/dicomweb/studies/${study}/series/${seriesUid}/instances/${sop}/rendered?accept=image/png${mono ? w : ''}`;
  }
  function fetchFrame(i) {
    const k = key(i);
    if (!state.cache.has(k)) {
      state.cache.set(k, imageUrl(url(i), 'image/png').catch((e) => { state.cache.delete(k); throw e; }));
      if (state.cache.size > 400) state.cache.delete(state.cache.keys().next().value);
    }
    return state.cache.get(k);
  }
  function overlay() {
    const inst = instances[state.index];
    tl.replaceChildren(pn(val(meta, T.PatientName)), h('br'), val(meta, T.PatientID));
    tr.replaceChildren(val(meta, T.StudyDescription) || '', h('br'), dateTime(val(meta, T.StudyDate), val(meta, T.StudyTime)),
      h('br'), modality);
    const im = bySop.get(val(inst, T.SOPUID)) || {};
    const ipp = vals(im, '00200032');
    const loc = ipp.length === 3 ? Number(ipp[2]) : Number(val(im, '00201041'));
    bl.replaceChildren(`Image ${state.index + 1} / ${instances.length}`, h('br'),
      `Instance #${val(inst, T.InstanceNumber) || '—'}`, h('br'),
      h('span', { id: 'slice-position' }, Number.isFinite(loc) && (ipp.length === 3 || val(im, '00201041') !== '')
        ? `Position ${loc.toFixed(1)} mm` : 'Position —'));
    br.replaceChildren(mono ? `W ${Math.round(state.width)}  L ${Math.round(state.center)}` : '',
      h('br'), `${val(inst, T.Columns)} × ${val(inst, T.Rows)}`);
  }
  async function show() {
    const token = ++state.token;
    overlay();
    try {
      const u = await fetchFrame(state.index);
      if (token === state.token) { img.src = u; stage.dataset.shown = String(state.index); }
    } catch (e) { if (token === state.token) tl.append(h('br'), 'error: ' + e.message); }
    for (const d of [1, -1, 2]) {  // warm the neighbours
      const j = state.index + d;
      if (j >= 0 && j < instances.length) fetchFrame(j).catch(() => {});
    }
  }
  let timer = null;
  function setWindow(c, w, custom) {
    state.center = c; state.width = Math.max(1, w); state.custom = custom;
    center.value = centerNum.value = Math.round(state.center);
    width.value = widthNum.value = Math.round(state.width);
    overlay();
    clearTimeout(timer);
    timer = setTimeout(show, 60);
  }
  function go(i) {
    state.index = Math.min(instances.length - 1, Math.max(0, i));
    slice.value = state.index + 1;
    show();
  }
  slice.addEventListener('input', () => go(Number(slice.value) - 1));
  center.addEventListener('input', () => setWindow(Number(center.value), state.width, true));
  width.addEventListener('input', () => setWindow(state.center, Number(width.value), true));
  centerNum.addEventListener('change', () => setWindow(Number(centerNum.value), state.width, true));
  widthNum.addEventListener('change', () => setWindow(state.center, Number(widthNum.value), true));
  stage.addEventListener('wheel', (ev) => { ev.preventDefault(); go(state.index + Math.sign(ev.deltaY)); },
    { passive: false });
  let drag = null;
  stage.addEventListener('mousedown', (ev) => { drag = { x: ev.clientX, y: ev.clientY, c: state.center, w: state.width }; });
  window.addEventListener('mouseup', () => { drag = null; });
  stage.addEventListener('mousemove', (ev) => {
    if (!drag || !mono) return;
    setWindow(drag.c + (ev.clientY - drag.y) * 2, drag.w + (ev.clientX - drag.x) * 4, true);
  });
  const onKey = (ev) => {
    if (!document.body.contains(stage)) return document.removeEventListener('keydown', onKey);
    if (ev.key === 'ArrowUp' || ev.key === 'ArrowLeft') { ev.preventDefault(); go(state.index - 1); }
    if (ev.key === 'ArrowDown' || ev.key === 'ArrowRight') { ev.preventDefault(); go(state.index + 1); }
  };
  document.addEventListener('keydown', onKey);
  show();
}

// ---- archive page ----------------------------------------------------------------------
async function archiveView() {
  const p = hashParams();
  const page = Math.max(0, Number(p.get('page') || 0));
  app.replaceChildren(h('div', { class: 'panel' }, h('div', { class: 'empty' }, 'Loading…')));
  let stats, studies, migrations, queue, lifecycle;
  try {
    [stats, studies, migrations, queue, lifecycle] = await Promise.all([
      getJson('/api/stats'), studyPage(`limit=${PAGE}&offset=${page * PAGE}`),
      getJson('/api/migrations?limit=30'), getJson('/api/queue?limit=30'), lifecyclePage(p), loadSite()]);
  } catch (e) {
    app.replaceChildren();
    return showError(app, e);
  }
  const stat = (v, l, cls) => h('div', { class: 'stat ' + (cls || '') }, h('div', { class: 'v' }, v), h('div', { class: 'l' }, l));
  const total = stats.hot_bytes + stats.pack_bytes || 1;
  const cards = h('div', { class: 'stats', id: 'stats' },
    stat(num(stats.patients), 'patients'), stat(num(stats.studies), 'studies'), stat(num(stats.series), 'series'),
    stat(num(stats.instances), 'instances'),
    stat(num(stats.hot_instances), `on the hot tier · ${bytes(stats.hot_bytes)}`, 'hot'),
    stat(num(stats.cold_instances), `in packs · ${bytes(stats.cold_bytes)} as received`, 'cold'),
    stat(num(stats.packs), `pack objects · ${bytes(stats.pack_bytes)}`, 'cold'));
  const split = h('div', { class: 'panel' }, h('h2', {}, 'Where the bytes are'),
    h('div', { class: 'bar' }, h('div', { class: 'hot', style: `width:${(100 * stats.hot_bytes) / total}%` }),
      h('div', { class: 'cold', style: `width:${(100 * stats.pack_bytes) / total}%` })),
    h('div', { class: 'legend' }, h('span', {}, h('i', { style: 'background:var(--hot)' }), `hot tier ${bytes(stats.hot_bytes)}`),
      h('span', {}, h('i', { style: 'background:var(--cold)' }),
        `packs ${bytes(stats.pack_bytes)} (${bytes(stats.cold_bytes)} as received)`),
      h('span', {}, `cold store: ${stats.cold_store}`),
      h('span', {}, `metadata cache: ${num(stats.metadata_cache.entries)} instances, ${num(stats.metadata_cache.hits)} hits`)));
  const more = page * PAGE + studies.studies.length < studies.total;
  studies = studies.studies;
  const go = (n) => { location.hash = '#/archive?page=' + n; };
  const perStudy = h('div', { class: 'panel' }, h('h2', {}, 'Objects per study'),
    studies.length ? h('table', { id: 'per-study' },
      h('thead', {}, h('tr', {}, ['Patient', 'Study date', 'Description', 'Tier'].map((t) => h('th', {}, t)),
        ['Series', 'Instances', 'Received', 'In packs', 'Hot', 'Packed', 'Packs'].map((t) => h('th', { class: 'num' }, t)))),
      h('tbody', {}, studies.map((s) => h('tr', { class: 'link', onclick: () => { location.hash = '#/study/' + s.study_uid; } },
        h('td', {}, pn(s.patient_name)), h('td', { class: 'nowrap' }, da(s.study_date)), h('td', {}, s.description),
        h('td', {}, tierBadge(s.tier), ' ', problemBadge(s), codecBadges(s.syntaxes)), h('td', { class: 'num' }, s.series),
        h('td', { class: 'num' }, num(s.instances)), h('td', { class: 'num' }, bytes(s.bytes)),
        h('td', { class: 'num' }, s.pack_bytes ? bytes(s.pack_bytes) : '—'),
        h('td', { class: 'num' }, num(s.hot_instances)), h('td', { class: 'num' }, num(s.cold_instances)),
        h('td', { class: 'num' }, s.packs.length))))) : h('div', { class: 'empty' }, 'The archive is empty.'),
    h('div', { class: 'pager' },
      h('button', { type: 'button', disabled: page === 0, onclick: () => go(page - 1) }, '‹ Previous'),
      h('button', { type: 'button', disabled: !more, onclick: () => go(page + 1) }, 'Next ›')));
  const openStudy = (uid) => () => { location.hash = '#/study/' + uid; };
  const queuePanel = h('div', { class: 'panel' }, h('h2', {}, 'Converter queue: studies with images on the hot tier'),
    queue.length ? h('table', { id: 'queue' }, h('thead', {}, h('tr', {}, h('th', {}, 'Patient'), h('th', {}, 'Study date'),
      h('th', {}, 'Description'), h('th', { class: 'num' }, 'Hot instances'), h('th', { class: 'num' }, 'Size'),
      h('th', {}, 'Last image received'), h('th', {}, 'State'))),
    h('tbody', {}, queue.map((q) => h('tr', { class: 'link' + (q.problem ? ' failed' : ''), title: q.study_uid,
      dataset: { uid: q.study_uid }, onclick: openStudy(q.study_uid) },
      h('td', {}, pn(q.patient_name) || h('span', { class: 'muted' }, '(no name)')),
      h('td', { class: 'nowrap' }, dateTime(q.study_date, q.study_time)), h('td', {}, q.description),
      h('td', { class: 'num' }, num(q.hot_instances)), h('td', { class: 'num' }, bytes(q.bytes)),
      h('td', { class: 'nowrap' }, when(q.last_received_ms)),
      h('td', {}, q.problem ? problemBadge(q) : h('span', { class: 'muted' }, q.migration || 'waiting'))))))
      : h('div', { class: 'empty' }, 'Nothing waits on the hot tier.'));
  const migPanel = h('div', { class: 'panel' }, h('h2', {}, 'Recent migrations'),
    migrations.length ? h('table', { id: 'migrations' }, h('thead', {}, h('tr', {}, ['Study', 'State', 'Node', 'Updated']
      .map((t) => h('th', {}, t)), h('th', { class: 'num' }, 'Attempts'), h('th', {}, 'Problem'))),
    h('tbody', {}, migrations.map((m) => h('tr', { class: 'link' + (m.problem ? ' failed' : ''), dataset: { uid: m.study_uid },
      onclick: openStudy(m.study_uid) },
      h('td', {}, studyLabel(m)), h('td', {}, h('span', { class: 'badge ' + m.state }, m.state)),
      h('td', {}, m.node), h('td', { class: 'nowrap' }, when(m.updated_ms)), h('td', { class: 'num' }, m.attempts),
      h('td', { class: m.problem ? 'error-text' : 'muted' }, m.problem
        ? [h('div', { class: 'summary' }, m.problem.summary + '.'), h('div', { class: 'action' }, m.problem.action)]
        : '—')))))
      : h('div', { class: 'empty' }, 'The converter has not run yet.'));
  const zone = h('p', { class: 'muted small', id: 'time-zone' }, `Times are in ${site.zone} (ISO 8601).`);
  app.replaceChildren(cards, split, perStudy, queuePanel, migPanel, lifecyclePanel(lifecycle, p), zone);
}

// ---- lifecycle changes (archive page) ---------------------------------------------------
// /api/lifecycle: deletes, rejections, retention (and corrections), newest first, every node's.
const LIFE_PAGE = 20;
async function lifecyclePage(p) {
  const page = Math.max(0, Number(p.get('changes') || 0));
  const r = await get(`/api/lifecycle?limit=${LIFE_PAGE}&offset=${page * LIFE_PAGE}`);
  return { events: await r.json(), total: Number(r.headers.get('X-Total-Count') || 0), page };
}
const ACTION_LABEL = {
  delete: 'deleted', retention: 'retention', reject: 'rejected', 'rejected-expired': 'rejected, grace over',
  correct: 'corrected', merge: 'merged',
};
// What changed, key by key: "instances 24 → 12"; keys only after the change: "deleted 12".
function changeList(before, after) {
  const o = before && typeof before === 'object' ? before : {};
  const n = after && typeof after === 'object' ? after : {};
  const text = (v) => (v === undefined || v === null || v === '' ? '—' : String(v).split('\\').join(', '));
  const items = [];
  for (const k of new Set([...Object.keys(o), ...Object.keys(n)])) {
    if (k in o && k in n && JSON.stringify(o[k]) === JSON.stringify(n[k])) continue;
    items.push(h('li', { dataset: { key: k } }, h('span', { class: 'muted' }, k + ' '),
      k in o ? [text(o[k]), ' → ', text(n[k])] : text(n[k])));
  }
  return items.length ? h('ul', { class: 'changes' }, items) : h('span', { class: 'muted' }, '—');
}
function lifecyclePanel(life, p) {
  const go = (n) => { p.set('changes', n); location.hash = '#/archive?' + p.toString(); };
  const scope = (e) => (e.sop_uid ? h('span', { title: e.sop_uid }, 'instance')
    : e.series_uid ? h('span', { title: e.series_uid }, 'series') : h('span', { title: e.study_uid }, 'study'));
  const more = (life.page + 1) * LIFE_PAGE < life.total;
  return h('div', { class: 'panel' }, h('h2', {}, 'Lifecycle changes: deletes, rejections, retention'),
    life.events.length ? h('table', { id: 'lifecycle' }, h('thead', {}, h('tr', {},
      ['When', 'Change', 'Who', 'Study', 'Scope'].map((t) => h('th', {}, t)), h('th', { class: 'num' }, 'Instances'),
      h('th', {}, 'Old → new'), h('th', {}, 'Why'))),
    h('tbody', {}, life.events.map((e) => h('tr', { dataset: { id: e.id, action: e.action, uid: e.study_uid } },
      h('td', { class: 'nowrap when' }, when(e.at_ms)),
      h('td', {}, h('span', { class: 'badge ' + e.action }, ACTION_LABEL[e.action] || e.action)),
      h('td', { class: 'who' }, e.who || h('span', { class: 'muted' }, '(unknown)')),
      h('td', { class: 'study' }, studyLabel(e), e.patient_id ? h('span', { class: 'muted' }, ' · ' + e.patient_id) : ''),
      h('td', {}, scope(e)), h('td', { class: 'num' }, num(e.instances)),
      h('td', { class: 'values' }, changeList(e.old, e.new)), h('td', { class: 'small' }, e.reason)))))
      : h('div', { class: 'empty' }, 'No study was deleted, rejected or expired yet.'),
    h('div', { class: 'pager' },
      h('button', { type: 'button', disabled: life.page === 0, onclick: () => go(life.page - 1) }, '‹ Newer'),
      h('span', { class: 'muted' }, `${num(life.total)} change(s)`),
      h('button', { type: 'button', disabled: !more, onclick: () => go(life.page + 1) }, 'Older ›')));
}

// ---- routing ---------------------------------------------------------------------------
function route() {
  const path = location.hash.replace(/^#/, '').split('?')[0] || '/';
  const parts = path.split('/').filter(Boolean);
  for (const a of document.querySelectorAll('[data-nav]'))
    a.classList.toggle('active', a.dataset.nav === (parts[0] === 'archive' ? 'archive' : 'studies'));
  window.scrollTo(0, 0);
  if (parts[0] === 'study' && parts[1]) return studyView(parts[1]);
  if (parts[0] === 'view' && parts[2]) return viewerView(parts[1], parts[2]);
  if (parts[0] === 'archive') return archiveView();
  return studiesView();
}
window.addEventListener('hashchange', route);
route();
