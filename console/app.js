// The console's router: pages live in the URL's fragment (#/order/o-1), which
// the browser never sends to the server. A data request answered 401 shows
// the sign-in page, which returns to the page asked for once signed in.
import { ApiError, get, SignInNeeded, token } from './api.js';
import { attentionPage } from './attention-page.js';
import { h, notice, show } from './dom.js';
import { orderPage, orderSearch } from './order-page.js';
import { providerPage, providerSearch } from './provider-page.js';

/** "#/order/o%2F1?asOf=…" → { parts: ['order', 'o/1'], query: URLSearchParams } */
function parseRoute(hash) {
  const [path, query = ''] = hash.replace(/^#\/?/, '').split('?');
  const parts = path
    .split('/')
    .filter((part) => part !== '')
    .map(decodeURIComponent);
  return { parts, query: new URLSearchParams(query) };
}

function signInPage(returnTo, problem) {
  document.getElementById('sign-out').hidden = true;
  const input = h('input', {
    id: 'token',
    name: 'token',
    type: 'password',
    autocomplete: 'off',
    spellcheck: 'false',
    required: true,
    'aria-describedby': 'token-help',
  });
  const error = h('p', { class: 'form-error', role: 'alert', id: 'sign-in-error' }, problem ?? '');
  const form = h(
    'form',
    {
      class: 'sign-in',
      onsubmit: async (event) => {
        event.preventDefault();
        const given = input.value.trim();
        try {
          // A cheap guarded route: it answers 401 for a wrong token and reads no data.
          await get('/reconciliation/last', given);
          token.set(given);
          input.value = '';
          navigate(returnTo || '#/order');
        } catch (failure) {
          error.textContent =
            failure instanceof SignInNeeded
              ? 'That token was refused: check OPS_TOKEN and try again.'
              : failure.message;
          input.focus();
        }
      },
    },
    h('label', { for: 'token' }, 'Operations token'),
    input,
    h(
      'p',
      { id: 'token-help', class: 'help' },
      'The worker’s OPS_TOKEN. It is kept for this browser tab only (sessionStorage) and sent in the ',
      h('code', {}, 'Authorization'),
      ' header, never in a link.',
    ),
    error,
    h('button', { type: 'submit' }, 'Sign in'),
  );
  show(h('h1', {}, 'Sign in'), form);
  input.focus();
}

function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

let current = 0;

async function route() {
  const request = ++current;
  const { parts, query } = parseRoute(location.hash);
  const [page = 'order', id] = parts;
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === page) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  if (page === 'signin') return signInPage(query.get('next'));
  document.getElementById('sign-out').hidden = token.get() === null;
  try {
    if (page === 'order') await (id ? orderPage(id, query) : orderSearch());
    else if (page === 'provider') await (id ? providerPage(id, query) : providerSearch());
    else if (page === 'attention') await attentionPage();
    else
      show(
        h('h1', {}, 'Not found'),
        h('p', {}, 'No such page.'),
        h('a', { href: '#/order' }, 'Find an order'),
      );
  } catch (failure) {
    if (request !== current) return;
    if (failure instanceof SignInNeeded) {
      token.clear();
      return signInPage(
        location.hash,
        token.get() === null ? undefined : 'Your session ended: sign in again.',
      );
    }
    const message =
      failure instanceof ApiError ? failure.message : `The console failed: ${failure.message}`;
    show(h('h1', {}, 'Could not load the page'), notice('error', message));
  }
}

window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', () => {
  document.getElementById('sign-out').addEventListener('click', () => {
    token.clear();
    signInPage('#/order');
  });
  route();
});
