// ddlocal dashboard: polls the emulator's teaching views once a second and
// draws the fleet, each behavior's timeline (hand-written SVG), the alerts
// and the clock. No framework, no network beyond the emulator itself.
'use strict';

const POLL_MS = 1000;
const BUCKET = 300;
const state = {
  selected: decodeURIComponent(location.hash.slice(1)) || null,
  seen: {},       // last JSON text per view: redraw only on change
  busy: false,
  clock: null,
};

function el(tag, attrs, ...kids) {
  const svg = ['svg', 'g', 'line', 'rect', 'circle', 'text', 'path', 'title'].includes(tag);
  const e = svg ? document.createElementNS('http://www.w3.org/2000/svg', tag)
                : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === 'class') e.setAttribute('class', v);
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  for (const kid of kids.flat()) {
    if (kid === null || kid === undefined || kid === false) continue;
    e.append(kid instanceof Node ? kid : document.createTextNode(String(kid)));
  }
  return e;
}

async function getJSON(path, init) {
  const r = await fetch(path, { cache: 'no-store', ...init });
  const text = await r.text();
  if (!r.ok) throw new Error(path + ': ' + r.status + ' ' + text);
  return { text, doc: JSON.parse(text) };
}

function changed(key, text) {
  if (state.seen[key] === text) return false;
  state.seen[key] = text;
  return true;
}

const pad = (n) => String(n).padStart(2, '0');
function hhmm(t) {
  const d = new Date(t * 1000);
  return pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes());
}
function stamp(t) {
  const d = new Date(t * 1000);
  return d.getUTCFullYear() + '-' + pad(d.getUTCMonth() + 1) + '-' + pad(d.getUTCDate()) + ' ' +
    pad(d.getUTCHours()) + ':' + pad(d.getUTCMinutes()) + ':' + pad(d.getUTCSeconds());
}

function valueText(v) {
  if (!v) return '';
  if ('count' in v) return String(v.count);
  if ('number' in v) return String(v.number);
  for (const k of ['ports', 'cidrs', 'strings', 'numbers']) if (k in v) return v[k].join(', ') || '(none)';
  return JSON.stringify(v);
}
function valueNumber(v) {
  if (v && 'count' in v) return Number(v.count);
  if (v && 'number' in v) return Number(v.number);
  return null;
}

// ---- clock ---------------------------------------------------------------
function renderClock(c) {
  state.clock = c;
  document.getElementById('clock-now').textContent = stamp(c.now) + ' UTC';
  const mode = { real: 'real time', scaled: 'scaled', manual: 'manual clock' }[c.mode] || c.mode;
  document.getElementById('clock-mode').textContent = mode;
  document.getElementById('clock-scale').textContent = c.mode === 'scaled' ? '×' + c.timeScale : '';
  document.getElementById('advance').hidden = c.mode !== 'manual';
}

async function advance() {
  const b = document.getElementById('advance');
  b.disabled = true;
  try {
    const r = await fetch('/_ddlocal/clock', {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ advanceSeconds: BUCKET }),
    });
    if (r.ok) renderClock(await r.json());
  } finally {
    b.disabled = false;
    poll();
  }
}

// ---- fleet ---------------------------------------------------------------
function renderFleet(f) {
  const list = document.getElementById('things');
  list.replaceChildren();
  document.getElementById('fleet-empty').hidden = f.things.length > 0;
  if (!state.selected || !f.things.some((t) => t.thingName === state.selected)) {
    const alarmed = f.things.find((t) => t.activeViolations.length);
    state.selected = (alarmed || f.things[0] || {}).thingName || null;
    state.seen.explain = null;
  }
  for (const t of f.things) {
    const n = t.activeViolations.length;
    const profiles = t.profiles.map((p) => p.securityProfileName);
    list.append(el('li', {
      class: 'thing' + (t.thingName === state.selected ? ' selected' : ''),
      'data-thing': t.thingName, tabindex: 0,
      onclick: () => select(t.thingName),
      onkeydown: (e) => { if (e.key === 'Enter') select(t.thingName); },
    },
    el('div', { class: 'name' }, t.thingName,
      n ? el('span', { class: 'badge alarm' }, n + ' in alarm') : el('span', { class: 'badge ok' }, 'no alarm')),
    el('div', { class: 'sub' },
      t.groups.length ? t.groups.map((g) => el('span', { class: 'chip' }, g)) : (t.registered ? 'no group' : 'not registered'),
      ' · ', profiles.length ? profiles.join(', ') : 'no profile')));
  }
  renderAlerts(f);
}

function select(name) {
  state.selected = name;
  history.replaceState(null, '', '#' + encodeURIComponent(name));
  state.seen.explain = null;
  state.seen.fleet = null;
  poll();
}

// ---- one thing's timelines -------------------------------------------------
function renderExplain(x) {
  const head = document.getElementById('thing-head');
  head.replaceChildren(el('h2', {}, x.thingName),
    el('div', { class: 'sub' }, x.registered ? 'registered thing' : 'a client that connected without CreateThing',
      ' · ', x.timelines.length + ' behavior' + (x.timelines.length === 1 ? '' : 's')));
  const box = document.getElementById('timelines');
  box.replaceChildren();
  if (!x.timelines.length) {
    box.append(el('div', { class: 'empty' }, 'No security profile targets ' + x.thingName +
      ' yet. Attach one to all things or to one of its groups.'));
  }
  for (const tl of x.timelines) box.append(renderTimeline(tl));
}

function sentence(words) {
  const cut = words.indexOf('; clears');
  if (cut < 0) return el('p', { class: 'sentence' }, words);
  return el('p', { class: 'sentence' },
    el('span', { class: 'alarm-part' }, words.slice(0, cut)), '; ',
    el('span', { class: 'clear-part' }, words.slice(cut + 2)));
}

// Walk the datapoints in order to say, for each, where the counters stood.
function annotate(tl) {
  const toAlarm = tl.consecutiveDatapointsToAlarm, toClear = tl.consecutiveDatapointsToClear;
  let inAlarm = false;
  return tl.datapoints.map((d) => {
    let counter = '';
    if (d.event === 'in-alarm') counter = toAlarm + '/' + toAlarm + ' violating → alarm';
    else if (d.event === 'alarm-cleared') counter = toClear + '/' + toClear + ' compliant → clear';
    else if (inAlarm && d.verdict === 'compliant') counter = d.consecutiveCompliant + '/' + toClear + ' compliant';
    else if (inAlarm) counter = 'still in alarm';
    else if (d.verdict === 'violating') counter = d.consecutiveViolating + '/' + toAlarm + ' violating';
    else counter = '—';
    if (d.event === 'in-alarm') inAlarm = true;
    if (d.event === 'alarm-cleared' || d.event === 'alarm-invalidated') inAlarm = false;
    return { ...d, counter };
  });
}

function renderTimeline(tl) {
  const points = annotate(tl);
  const card = el('article', { class: 'timeline', 'data-behavior': tl.behaviorName },
    el('h3', {}, tl.securityProfileName, ' / ', el('b', {}, tl.behaviorName), ' · ',
      el('span', { class: 'mono' }, tl.metric), tl.criteriaType !== 'STATIC' ? ' · ' + tl.criteriaType.toLowerCase() : ''),
    sentence(tl.words),
    el('div', { class: 'reason ' + tl.reason.code },
      el('b', {}, tl.reason.code.replace(/-/g, ' ')), tl.reason.text));
  if (tl.model) card.append(modelLine(tl.model));
  if (points.length) card.append(chart(tl, points), table(tl, points));
  return card;
}

// An ML behavior's model, as GetBehaviorModelTrainingSummaries reports it.
function modelLine(m) {
  const parts = ['model ' + m.modelStatus,
    Math.round(m.datapointsCollectionPercentage * 100) / 100 + '% of the datapoints collected'];
  if (m.trainingDataCollectionStartDate) parts.push('collecting since ' + stamp(m.trainingDataCollectionStartDate));
  if (m.lastModelRefreshDate) parts.push('last built ' + stamp(m.lastModelRefreshDate));
  if (m.modelStatus !== 'ACTIVE') parts.push('no verdicts until the model is ACTIVE');
  return el('div', { class: 'model ' + m.modelStatus.toLowerCase() }, parts.join(' · '));
}

function thresholdText(tl, d) {
  // An ML verdict: the normal band the value had to stay inside.
  if (d.band) return Math.round(d.band.low * 100) / 100 + ' … ' + Math.round(d.band.high * 100) / 100;
  if (d.threshold !== null && d.threshold !== undefined) return String(Math.round(d.threshold * 100) / 100);
  if (typeof tl.threshold === 'number') return String(tl.threshold);
  if (tl.threshold) return valueText(tl.threshold);
  return '—';
}

function table(tl, points) {
  const rows = points.slice().reverse().map((d) => el('tr', { class: d.verdict },
    el('td', {}, stamp(d.time)),
    el('td', { class: 'mono' }, valueText(d.value)),
    el('td', {}, thresholdText(tl, d)),
    el('td', { class: 'verdict' }, d.verdict),
    el('td', {}, d.counter),
    el('td', {}, d.event ? el('span', { class: 'event ' + d.event }, d.event) : '')));
  return el('table', { class: 'points' },
    el('thead', {}, el('tr', {}, ['time (UTC)', 'value', 'threshold', 'verdict', 'counters', 'event'].map((h) => el('th', {}, h)))),
    el('tbody', {}, rows));
}

// The chart: value against threshold over time, alarm periods shaded.
function chart(tl, points) {
  const W = 960, H = 300, L = 64, R = 24, T = 34, B = 62;
  const now = (state.clock && state.clock.now) || points[points.length - 1].time;
  const t0 = points[0].time - BUCKET;
  const t1 = Math.max(points[points.length - 1].time, now) + BUCKET / 2;
  const x = (t) => L + (W - L - R) * (t - t0) / Math.max(1, t1 - t0);
  const nums = points.map((d) => valueNumber(d.value));
  const numeric = nums.every((n) => n !== null);
  const thresholds = points.map((d) => d.threshold).filter((v) => v !== null && v !== undefined);
  if (typeof tl.threshold === 'number') thresholds.push(tl.threshold);
  const top = numeric ? Math.max(1, ...nums, ...thresholds) * 1.18 : 1;
  const y = (v) => numeric ? T + (H - T - B) * (1 - v / top) : T + (H - T - B) / 2;
  const svg = el('svg', { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img',
    'aria-label': 'datapoints of ' + tl.behaviorName });

  // Alarm periods: from an in-alarm event to the event that ends it (or now).
  let start = null;
  const bands = [];
  for (const e of tl.events) {
    if (e.type === 'in-alarm') start = e.time;
    else if (start !== null) { bands.push([start, e.time]); start = null; }
  }
  if (start !== null) bands.push([start, t1]);
  for (const [a, b] of bands) {
    svg.append(el('rect', { class: 'alarm-band', x: x(a), y: T, width: Math.max(4, x(b) - x(a)), height: H - T - B,
      fill: 'rgba(214,40,57,0.12)', stroke: 'none' }));
  }
  // Axes and gridlines.
  svg.append(el('line', { x1: L, x2: W - R, y1: H - B, y2: H - B, stroke: '#9aa3b2', 'stroke-width': 1.5 }));
  if (numeric) {
    for (const f of [0, 0.5, 1]) {
      const v = Math.round(top / 1.18 * f);
      svg.append(el('line', { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: '#eceef2' }),
        el('text', { x: L - 10, y: y(v) + 5, 'text-anchor': 'end', 'font-size': 14, fill: '#5b6475' }, v));
    }
  }
  // The threshold: a line for a static value, steps for statistics.
  if (numeric && typeof tl.threshold === 'number') {
    svg.append(el('line', { class: 'threshold', x1: L, x2: W - R, y1: y(tl.threshold), y2: y(tl.threshold),
      stroke: '#394150', 'stroke-width': 2.5, 'stroke-dasharray': '8 6' }),
    el('text', { x: W - R, y: y(tl.threshold) - 8, 'text-anchor': 'end', 'font-size': 15, fill: '#394150', 'font-weight': 600 },
      'threshold ' + tl.threshold));
  } else if (numeric && thresholds.length) {
    const path = points.filter((d) => d.threshold !== null).map((d, i) => (i ? 'L' : 'M') + x(d.time) + ' ' + y(d.threshold)).join(' ');
    svg.append(el('path', { d: path, stroke: '#394150', 'stroke-width': 2.5, 'stroke-dasharray': '8 6', fill: 'none' }));
  } else if (!numeric && tl.threshold) {
    svg.append(el('text', { x: L, y: T - 12, 'font-size': 15, fill: '#394150' }, 'set: ' + valueText(tl.threshold)));
  }
  // Events.
  for (const e of tl.events) {
    const colour = e.type === 'in-alarm' ? '#d62839' : e.type === 'alarm-cleared' ? '#17877a' : '#8a94a6';
    svg.append(el('line', { x1: x(e.time), x2: x(e.time), y1: T - 6, y2: H - B, stroke: colour, 'stroke-width': 2 }),
      el('text', { class: 'event-label ' + e.type, x: x(e.time) + 6, y: T - 12 + (e.type === 'in-alarm' ? 0 : 0),
        'font-size': 15, 'font-weight': 700, fill: colour }, e.type));
  }
  // Datapoints, each with its value, time and counters.
  for (const d of points) {
    const colour = d.verdict === 'violating' ? '#d62839' : d.verdict === 'compliant' ? '#17877a' : '#8a94a6';
    const v = valueNumber(d.value);
    svg.append(el('g', { class: 'dp ' + d.verdict },
      el('title', {}, stamp(d.time) + ': ' + valueText(d.value) + ' (' + d.verdict + ')'),
      el('circle', { cx: x(d.time), cy: y(v === null ? 0 : v), r: 9, fill: colour, stroke: '#fff', 'stroke-width': 2 }),
      el('text', { x: x(d.time), y: y(v === null ? 0 : v) - 15, 'text-anchor': 'middle', 'font-size': 15, 'font-weight': 700, fill: colour },
        numeric ? valueText(d.value) : ''),
      el('text', { x: x(d.time), y: H - B + 22, 'text-anchor': 'middle', 'font-size': 14, fill: '#394150' }, hhmm(d.time)),
      el('text', { x: x(d.time), y: H - B + 42, 'text-anchor': 'middle', 'font-size': 13, fill: colour }, d.counter)));
  }
  return svg;
}

// ---- retained values -------------------------------------------------------
// What Detect retained for the selected thing (the metrics its profiles use
// or list in additionalMetricsToRetain), read through ListMetricValues.
const RETAINED_METRICS = ['aws:num-messages-sent', 'aws:num-messages-received',
  'aws:num-authorization-failures', 'aws:num-connection-attempts', 'aws:num-disconnects',
  'aws:message-byte-size', 'aws:source-ip-address', 'aws:disconnect-duration',
  'aws:all-bytes-in', 'aws:all-bytes-out', 'aws:all-packets-in', 'aws:all-packets-out',
  'aws:num-established-tcp-connections', 'aws:num-listening-tcp-ports',
  'aws:num-listening-udp-ports', 'aws:listening-tcp-ports', 'aws:listening-udp-ports',
  'aws:destination-ip-addresses'];

function setupRetained() {
  const select = document.getElementById('retained-metric');
  for (const m of RETAINED_METRICS) select.append(el('option', { value: m }, m));
  select.addEventListener('change', () => { state.seen.retained = null; poll(); });
}

async function pollRetained() {
  const box = document.getElementById('retained');
  box.hidden = !state.selected || !state.clock;
  if (box.hidden) return;
  const metric = document.getElementById('retained-metric').value;
  const end = new Date(state.clock.now * 1000), start = new Date((state.clock.now - 12 * 3600) * 1000);
  const r = await getJSON('/metric-values?thingName=' + encodeURIComponent(state.selected) +
    '&metricName=' + encodeURIComponent(metric) + '&startTime=' + start.toISOString() +
    '&endTime=' + end.toISOString() + '&maxResults=250');
  if (!changed('retained', state.selected + metric + r.text)) return;
  const points = r.doc.metricDatumList.map((d) => ({ time: d.timestamp, value: d.value,
    verdict: 'no-verdict', threshold: null, counter: '' }));
  const out = document.getElementById('retained-chart');
  out.replaceChildren(points.length
    ? chart({ behaviorName: metric, events: [], threshold: null }, points)
    : el('p', { class: 'muted' }, 'Nothing retained for ' + metric + ' yet: a profile that targets this thing must use it in a behavior or list it in additionalMetricsToRetainV2.'));
}

// ---- alerts ----------------------------------------------------------------
function renderAlerts(f) {
  const box = document.getElementById('alerts');
  box.replaceChildren();
  if (!f.alerts.length) {
    box.append(el('p', { class: 'muted' }, 'No alert yet. An alert is sent when a violation opens (in-alarm), clears or is invalidated, unless the behavior suppresses alerts.'));
    return;
  }
  for (const a of f.alerts) {
    const m = a.message || {};
    let delivery;
    if (!a.topicArn) delivery = 'no SNS target on the profile: recorded only';
    else if (!f.deliveryTracked) delivery = 'to ' + a.topicArn;
    else if (!a.deliveries.length) delivery = 'to ' + a.topicArn + ': no subscription yet';
    else {
      // per subscription: delivered, kept back by its filter policy, failed or pending
      const counts = ['delivered', 'filtered', 'failed', 'pending']
        .map((s) => [s, a.deliveries.filter((d) => d.status === s).length]).filter(([, n]) => n);
      delivery = counts.map(([s, n]) => n + ' ' + s).join(', ') + ': ' + a.deliveries.map((d) =>
        d.status === 'filtered' ? 'filtered out for ' + d.endpoint
          : d.status + ' to ' + d.endpoint + ' (' + d.attempts + ' attempt' + (d.attempts === 1 ? '' : 's') +
            (d.lastHttpStatus ? ', HTTP ' + d.lastHttpStatus : '') + ')').join('; ');
    }
    box.append(el('details', { class: 'alert' },
      el('summary', {}, stamp(a.time), ' · ', el('span', { class: 'event ' + (m.violationEventType || '') }, m.violationEventType || 'alert'),
        ' · ', m.thingName || '', ' · ', a.securityProfileName, ' — ', el('span', { class: 'muted' }, delivery)),
      el('pre', {}, JSON.stringify(m, null, 2))));
  }
}

// ---- audit -------------------------------------------------------------------
// The audit tasks of the last 90 days of emulated time, newest first, read
// through the AWS API (ListAuditTasks, DescribeAuditTask); the selected
// task's checks and findings, each with the rule it enforces in plain words
// (GET /_ddlocal/audit/checks), and the suppressions.
const AUDIT_TASKS_SHOWN = 10;
const DAY = 86400;

const postJSON = (path, body) => getJSON(path, {
  method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });

const RESOURCE_LABELS = {
  deviceCertificateId: 'device certificate', deviceCertificateArn: 'device certificate',
  caCertificateId: 'CA certificate', clientId: 'client ID', account: 'account',
  roleAliasArn: 'role alias', iamRoleArn: 'IAM role', cognitoIdentityPoolId: 'Cognito identity pool',
};

// A ResourceIdentifier in words: "policy open version 1", "device certificate 3f2a…".
function resourceText(id) {
  const [k, v] = Object.entries(id || {})[0] || ['', ''];
  if (k === 'policyVersionIdentifier') return 'policy ' + v.policyName + ' version ' + v.policyVersionId;
  if (k === 'issuerCertificateIdentifier') {
    return 'issuer ' + v.issuerCertificateSubject + ' serial ' + v.issuerCertificateSerialNumber;
  }
  return (RESOURCE_LABELS[k] || k) + ' ' + v;
}

function verdictBadge(status) {
  const cls = status === 'COMPLETED_NON_COMPLIANT' ? 'non-compliant'
    : status === 'COMPLETED_COMPLIANT' ? 'compliant' : 'other';
  const text = { 'non-compliant': 'non-compliant', compliant: 'compliant' }[cls] || status.toLowerCase().replace(/_/g, ' ');
  return el('span', { class: 'verdict-badge ' + cls }, text);
}

function auditTable(head, rows, attrs) {
  return el('table', { class: 'audit-table', ...attrs },
    el('thead', {}, el('tr', {}, head.map((h) => el('th', {}, h)))), el('tbody', {}, rows));
}

async function pollAudit() {
  if (!state.clock) return;
  if (!state.auditChecks) {
    const c = await getJSON('/_ddlocal/audit/checks');
    state.auditChecks = Object.fromEntries(c.doc.checks.map((x) => [x.checkName, x]));
  }
  const now = state.clock.now;
  const list = await getJSON('/audit/tasks?startTime=' + new Date((now - 90 * DAY) * 1000).toISOString() +
    '&endTime=' + new Date((now + DAY) * 1000).toISOString() + '&maxResults=250');
  const ids = list.doc.tasks.map((t) => t.taskId).reverse().slice(0, AUDIT_TASKS_SHOWN);
  const tasks = await Promise.all(ids.map((id) => getJSON('/audit/tasks/' + encodeURIComponent(id))));
  if (!ids.includes(state.auditTask)) state.auditTask = ids[0] || null;
  const findings = state.auditTask
    ? await postJSON('/audit/findings', { taskId: state.auditTask, maxResults: 250 }) : null;
  const sup = await postJSON('/audit/suppressions/list', { maxResults: 250 });
  const key = state.auditTask + tasks.map((t) => t.text).join() + (findings ? findings.text : '') + sup.text;
  if (!changed('audit', key)) return;
  renderAuditTasks(ids, tasks.map((t) => t.doc));
  renderAuditTask(tasks[ids.indexOf(state.auditTask)], findings);
  renderSuppressions(sup.doc.suppressions);
}

function renderAuditTasks(ids, tasks) {
  const box = document.getElementById('audit-tasks');
  if (!ids.length) {
    box.replaceChildren(el('p', { class: 'muted' }, 'No audit task yet. Enable checks with ' +
      'UpdateAccountAuditConfiguration, then start an audit.'));
    return;
  }
  box.replaceChildren(auditTable(['started (UTC)', 'task', 'type', 'status', 'checks', 'compliant', 'non-compliant', 'other'],
    tasks.map((t, i) => {
      const st = t.taskStatistics || {};
      const other = (st.inProgressChecks || 0) + (st.waitingForDataCollectionChecks || 0) +
        (st.failedChecks || 0) + (st.canceledChecks || 0);
      return el('tr', {
        class: 'audit-task-row' + (ids[i] === state.auditTask ? ' selected' : ''), 'data-task': ids[i], tabindex: 0,
        onclick: () => selectAuditTask(ids[i]),
        onkeydown: (e) => { if (e.key === 'Enter') selectAuditTask(ids[i]); },
      },
      el('td', {}, stamp(t.taskStartTime)), el('td', { class: 'mono' }, ids[i]),
      el('td', {}, t.taskType === 'SCHEDULED_AUDIT_TASK' ? 'scheduled (' + (t.scheduledAuditName || '') + ')' : 'on demand'),
      el('td', {}, t.taskStatus), el('td', {}, st.totalChecks || 0), el('td', {}, st.compliantChecks || 0),
      el('td', {}, st.nonCompliantChecks || 0), el('td', {}, other));
    }), { id: 'audit-task-list' }));
}

function selectAuditTask(id) {
  state.auditTask = id;
  state.seen.audit = null;
  poll();
}

function renderAuditTask(task, findings) {
  const box = document.getElementById('audit-task');
  if (!task) { box.replaceChildren(); return; }
  const words = (name) => (state.auditChecks[name] || {}).words || '';
  const checks = Object.entries(task.doc.auditDetails || {}).map(([name, d]) => el('tr', { 'data-check': name },
    el('td', {}, verdictBadge(d.checkRunStatus)), el('td', { class: 'mono' }, name), el('td', {}, words(name)),
    el('td', {}, d.nonCompliantResourcesCount === undefined ? '—'
      : d.nonCompliantResourcesCount + ' of ' + d.totalResourcesCount +
        (d.suppressedNonCompliantResourcesCount ? ' (' + d.suppressedNonCompliantResourcesCount + ' suppressed)' : ''))));
  const list = findings.doc.findings.map((f) => el('div', {
    class: 'finding' + (f.isSuppressed ? ' suppressed' : ''), 'data-check': f.checkName },
  el('div', {}, el('b', {}, f.severity), ' · ', el('span', { class: 'mono' }, f.checkName),
    ' · ', el('span', { class: 'resource' }, resourceText(f.nonCompliantResource.resourceIdentifier)),
    f.isSuppressed ? el('span', { class: 'muted' }, ' · suppressed') : ''),
  el('p', { class: 'rule' }, words(f.checkName)),
  el('div', { class: 'muted' }, f.reasonForNonCompliance + ' (' + f.reasonForNonComplianceCode + ') · found ' +
    stamp(f.findingTime))));
  box.replaceChildren(el('h3', {}, 'Checks of ', el('span', { class: 'mono' }, task.doc.taskId || state.auditTask)),
    auditTable(['verdict', 'check', 'the rule', 'non-compliant'], checks, { id: 'audit-checks' }),
    el('h3', {}, 'Findings'), el('div', { id: 'audit-findings' },
      list.length ? list : el('p', { class: 'muted' }, 'No finding: every resource checked complies.')));
}

function renderSuppressions(list) {
  const box = document.getElementById('audit-suppressions');
  if (!list.length) {
    box.replaceChildren(el('p', { class: 'muted' }, 'No suppression. CreateAuditSuppression hides a known finding.'));
    return;
  }
  box.replaceChildren(auditTable(['check', 'resource', 'until', 'description'], list.map((x) => el('tr', {},
    el('td', { class: 'mono' }, x.checkName), el('td', {}, resourceText(x.resourceIdentifier)),
    el('td', {}, x.suppressIndefinitely ? 'indefinitely' : x.expirationDate ? stamp(x.expirationDate) : '—'),
    el('td', {}, x.description || ''))), { id: 'audit-suppression-list' }));
}

// ---- polling -----------------------------------------------------------------
async function poll() {
  if (state.busy) return;
  state.busy = true;
  try {
    const [clock, fleet] = await Promise.all([getJSON('/_ddlocal/clock'), getJSON('/_ddlocal/fleet')]);
    document.getElementById('offline').hidden = true;
    if (changed('clock', clock.text)) renderClock(clock.doc);
    if (changed('fleet', fleet.text)) renderFleet(fleet.doc);
    if (state.selected) {
      const x = await getJSON('/_ddlocal/explain?thingName=' + encodeURIComponent(state.selected));
      if (changed('explain', x.text)) renderExplain(x.doc);
    }
    await pollRetained();
    await pollAudit().catch((e) => {
      // The Audit page's own trouble is shown there; the emulator is not offline.
      if (changed('audit', String(e))) document.getElementById('audit-tasks').replaceChildren(
        el('p', { class: 'muted' }, 'The audit views do not answer: ' + e.message));
    });
  } catch (e) {
    document.getElementById('offline').hidden = false;
  } finally {
    state.busy = false;
  }
}

document.getElementById('advance').addEventListener('click', advance);
setupRetained();
poll();
setInterval(poll, POLL_MS);
