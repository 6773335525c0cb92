// The operations API, asked with the token the operator signed in with. The
// token lives in sessionStorage only (gone when the tab closes), travels only
// in the Authorization header, never in a URL, and is never logged.

const tokenKey = 'escrow-worker.ops-token';

export const token = {
  get: () => sessionStorage.getItem(tokenKey),
  set: (value) => sessionStorage.setItem(tokenKey, value),
  clear: () => sessionStorage.removeItem(tokenKey),
};

/** Thrown on 401: the app answers it with the sign-in page. */
export class SignInNeeded extends Error {
  constructor() {
    super('sign in with the operations token');
    this.name = 'SignInNeeded';
  }
}

/** Any other refusal: the API's own sentence (it names the parameter and the fix). */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
  }
}

/** GET a guarded route; the body parsed as JSON. */
export async function get(path, given = token.get()) {
  const headers = { Accept: 'application/json' };
  if (given) headers.Authorization = `Bearer ${given}`;
  let response;
  try {
    response = await fetch(path, { headers, cache: 'no-store', credentials: 'omit' });
  } catch {
    throw new ApiError(0, 'the operations API did not answer: is the worker running?');
  }
  if (response.status === 401) throw new SignInNeeded();
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body.error ?? `HTTP ${response.status}`);
  return body;
}
