// Small DOM helpers: every text goes in as a text node (never innerHTML), so
// nothing an event or a report carries can become markup.

/** h('a', { href: '#/x', class: 'c' }, 'text', child) */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      element.addEventListener(name.slice(2), value);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the main region's content and moves focus to its heading. */
export function show(...children) {
  const main = document.getElementById('main');
  main.replaceChildren();
  append(main, children);
  const heading = main.querySelector('h1');
  (heading ?? main).setAttribute('tabindex', '-1');
  (heading ?? main).focus({ preventScroll: false });
}

/** A table: headers, then rows of cells (a cell is text, a node or { value, class }). */
export function table(caption, headers, rows, options = {}) {
  return h(
    'div',
    { class: 'table-wrap', role: 'region', 'aria-label': caption, tabindex: '0' },
    h(
      'table',
      { class: options.class },
      h('caption', {}, caption),
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          headers.map((text) => h('th', { scope: 'col' }, text)),
        ),
      ),
      h(
        'tbody',
        {},
        rows.length === 0
          ? h(
              'tr',
              {},
              h('td', { colspan: headers.length, class: 'empty' }, options.empty ?? 'None.'),
            )
          : rows.map((cells) =>
              h(
                'tr',
                {},
                cells.map((cell, index) =>
                  h(
                    'td',
                    { 'data-label': headers[index], class: cell?.class },
                    cell && typeof cell === 'object' && 'value' in cell ? cell.value : cell,
                  ),
                ),
              ),
            ),
      ),
    ),
  );
}

/** An amount exactly as the API gave it, with its currency; right-aligned in tables. */
export const money = (amount, currency) => ({
  value: h('span', { class: 'amount' }, `${amount} ${currency ?? ''}`.trim()),
  class: 'number',
});

/** A CLI command to copy, in a code block. */
export const command = (text) => h('code', { class: 'command' }, text);

export const notice = (kind, ...children) =>
  h(
    'div',
    { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'note' },
    ...children,
  );

/** "3d 4h", "12 min", "40 s" from milliseconds. */
export function age(ms) {
  const units = [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['min', 60_000],
    ['s', 1000],
  ];
  const parts = [];
  let rest = Math.max(0, ms);
  for (const [name, size] of units) {
    if (rest >= size && parts.length < 2) {
      parts.push(`${Math.floor(rest / size)} ${name}`);
      rest %= size;
    }
  }
  return parts.length === 0 ? '0 s' : parts.join(' ');
}

/** A moment in UTC as the API gives it, shortened for reading; the full value in a title. */
export const moment = (text) =>
  text
    ? h(
        'time',
        { datetime: text, title: text },
        text.replace('T', ' ').replace(/(\.\d{3})\d*Z$/, '$1Z'),
      )
    : '—';

export const orderLink = (orderId) =>
  h('a', { href: `#/order/${encodeURIComponent(orderId)}` }, orderId);

export const providerLink = (providerId) =>
  h('a', { href: `#/provider/${encodeURIComponent(providerId)}` }, providerId);
