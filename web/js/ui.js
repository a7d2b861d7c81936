// Small DOM helpers. Every piece of data goes through textContent, never innerHTML.

/** el('div', {class: 'x', onclick: fn}, child, 'text', ...) */
export function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') e.addEventListener(k.slice(2), v);
    else if (k === 'class') e.className = v;
    else if (k === 'dataset') Object.assign(e.dataset, v);
    else if (k === 'value') e.value = v;
    else if (k === 'checked') e.checked = !!v;
    else e.setAttribute(k, v === true ? '' : String(v));
  }
  append(e, children);
  return e;
}

function append(parent, children) {
  for (const c of children) {
    if (c === undefined || c === null || c === false) continue;
    if (Array.isArray(c)) append(parent, c);
    else parent.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

export function clear(node) {
  while (node.firstChild) node.removeChild(node.firstChild);
  return node;
}

/** A table from column headers and rows of cells (strings or nodes). */
export function table(headers, rows, attrs = {}) {
  return el('table', attrs,
    el('thead', {}, el('tr', {}, headers.map((h) => el('th', {}, h)))),
    el('tbody', {}, rows.length
      ? rows.map((r) => el('tr', {}, r.map((c) => el('td', {}, c))))
      : el('tr', {}, el('td', {colspan: headers.length, class: 'muted'}, 'none'))));
}

let toastTimer = 0;
/** A message at the bottom of the page; kind: 'ok' or 'error'. */
export function toast(message, kind = 'ok') {
  const t = document.getElementById('toast');
  t.textContent = message;
  t.className = 'toast ' + kind;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { t.className = 'toast hidden'; }, 5000);
}

/** Offers `text` as a file download; returns the <a> (its blob URL stays valid). */
export function downloadLink(filename, text, label) {
  const url = URL.createObjectURL(new Blob([text], {type: 'application/octet-stream'}));
  return el('a', {href: url, download: filename, class: 'button download', dataset: {file: filename}},
    label || filename);
}

/** JS string index of UTF-8 byte `offset` in `text`. */
export function byteOffsetToIndex(text, offset) {
  const enc = new TextEncoder();
  let bytes = 0;
  let i = 0;
  for (const ch of text) {
    if (bytes >= offset) return i;
    bytes += enc.encode(ch).length;
    i += ch.length;
  }
  return text.length;
}

/**
 * Shows where `err.position` points in `text`: selects the spot in `textarea` and
 * fills `box` with the message, the line and a caret under the column.
 */
export function showPositionError(box, textarea, err, text, label) {
  clear(box);
  box.className = 'code-error';
  const pos = err.position;
  box.append(el('div', {class: 'code-error-message'},
    (label ? label + ': ' : '') + err.message + (pos ? ` (line ${pos.line}, column ${pos.column})` : '')));
  if (!pos || text === undefined) return;
  let index;
  if (pos.offset !== undefined && pos.offset !== null) index = byteOffsetToIndex(text, pos.offset);
  else {
    const lines = text.split('\n');
    index = lines.slice(0, Math.max(0, pos.line - 1)).reduce((n, l) => n + l.length + 1, 0) + Math.max(0, pos.column - 1);
  }
  index = Math.min(index, text.length);
  const lineStart = text.lastIndexOf('\n', index - 1) + 1;
  let lineEnd = text.indexOf('\n', index);
  if (lineEnd < 0) lineEnd = text.length;
  const line = text.slice(lineStart, lineEnd);
  const col = index - lineStart;
  box.append(el('pre', {class: 'code-excerpt'},
    el('span', {}, line.slice(0, col)),
    el('mark', {class: 'error-mark'}, line.slice(col, col + 1) || ' '),
    el('span', {}, line.slice(col + 1)),
    '\n' + ' '.repeat(col) + '^'));
  if (textarea) {
    textarea.focus();
    textarea.setSelectionRange(index, Math.min(index + 1, text.length));
    textarea.classList.add('has-error');
  }
}

export function clearError(box, textarea) {
  clear(box);
  box.className = 'code-error hidden';
  if (textarea) textarea.classList.remove('has-error');
}

export function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return null;
  }
}

export function formatTime(ms) {
  const d = new Date(ms);
  return d.toLocaleTimeString(undefined, {hour12: false}) + '.' + String(d.getMilliseconds()).padStart(3, '0');
}

/** A labelled form row. */
export function field(label, input, hint) {
  return el('label', {class: 'field'}, el('span', {class: 'field-label'}, label), input,
    hint ? el('span', {class: 'hint'}, hint) : null);
}

export function button(label, onclick, attrs = {}) {
  return el('button', Object.assign({type: 'button', onclick}, attrs), label);
}
