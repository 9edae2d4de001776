// A real OpenID Connect provider (npm `oidc-provider`) that the mcp-gate tests use in
// place of Google. Started by tests/fixtures/oidc_provider.py; never used in production.
//
// Shaped like Google: issuer http://127.0.0.1:<port>, discovery at
// /.well-known/openid-configuration, authorization code flow with PKCE S256 required,
// scopes `openid email profile`, ID tokens that carry `email`, `email_verified`, `hd` and
// `name`, RS256 signing keys. `prompt=select_account` is accepted, as Google does.
//
// Logins are headless: there is no login page. Whoever reaches an interaction is logged in
// as the configured "next user" and consent is granted at once, so an HTTP client that
// follows redirects ends on the client's redirect_uri with a code.
//
// Profiles: beside that Google-shaped provider at the root, the same process serves one
// provider per claim shape of the IdPs docs/identity-providers.md describes, each at the
// issuer path its IdP uses, with its own discovery document and keys:
//   /<tenant-id>/v2.0   Entra ID (v2.0 endpoint)      /oauth2/default  Okta (custom AS)
//   /realms/gate        Keycloak                      /auth0/          Auth0 (the issuer
//                                                                      ends with a slash)
// Every profile releases whatever claims the next user has (Entra: no `email_verified`,
// `upn`; Okta and Keycloak: `groups`; Auth0: namespaced custom claims), in the ID token.
//
// Test controls, JSON over HTTP on the same port (loopback only, no auth: a test tool):
//   POST /test/accounts     {sub, claims}: change a signed-in user's claims from now on
//                           (claims: null deletes the account)
//   POST /test/users        {email, email_verified, hd?, name?, sub?}: the user of every
//                           login from now on; {claims: {...}} instead sets the ID token's
//                           claims (beside `sub`) exactly, with no default added
//   POST /test/clients      {client_id, client_secret, redirect_uris,
//                            token_endpoint_auth_method?}: add or replace a static client
//   POST /test/rotate-keys  add a new RS256 key and sign with it from now on (the old key
//                           stays published, as providers do during rotation) → {kid}
//   POST /test/reset        back to the default user
//
// Configuration: OIDC_PORT (required); OIDC_CLIENTS, a JSON array of clients as above;
// OIDC_SERVICE=1 makes it stand in for a service's own OAuth server (the tests of
// `userAuthentication: oauth`): its clients may also use refresh tokens, every code grant
// gets one, and every refresh rotates it (the old one is refused afterwards), as many
// services do.
// Changing clients or keys builds a new Provider over the same in-memory storage (the
// memory adapter is module-wide), so codes and sessions survive the swap.

import crypto from 'node:crypto';
import http from 'node:http';

import Provider, { interactionPolicy } from 'oidc-provider';

const port = Number(process.env.OIDC_PORT);
if (!Number.isInteger(port) || port <= 0) {
  console.error('OIDC_PORT must be set to a TCP port');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;
const serviceMode = process.env.OIDC_SERVICE === '1';

const DEFAULT_USER = Object.freeze({
  email: 'alice@example.com',
  email_verified: true,
  hd: 'example.com',
  name: 'Alice Example',
});

// Entra's issuer names the tenant by its id; any GUID stands in for one.
const ENTRA_TENANT = '9188040d-6c67-4c5b-b112-36a304b66dad';
const PROFILES = [
  { name: 'google', path: '' },
  { name: 'entra', path: `/${ENTRA_TENANT}/v2.0` },
  { name: 'okta', path: '/oauth2/default' },
  { name: 'keycloak', path: '/realms/gate' },
  { name: 'auth0', path: '/auth0', trailingSlash: true },
];
// Claims a profile may release: the union of what the shapes above put in ID tokens.
const RELEASED_CLAIMS = [
  'email', 'email_verified', 'hd', 'name', 'nickname', 'preferred_username', 'upn', 'oid', 'tid',
  'groups', 'realm_access', 'https://gate.test/groups', 'https://gate.test/roles',
];

const clients = new Map();
for (const client of JSON.parse(process.env.OIDC_CLIENTS ?? '[]')) {
  clients.set(client.client_id, client);
}
let signingKeys = [newSigningKey()];
let nextUser = { ...DEFAULT_USER };
const accounts = new Map(); // sub → claims, for every user that logged in
const cookieKey = crypto.randomBytes(32).toString('base64url');

function newSigningKey() {
  const { privateKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { ...privateKey.export({ format: 'jwk' }), kid: crypto.randomUUID(), alg: 'RS256', use: 'sig' };
}

function subjectOf(user) {
  if (user.sub) return String(user.sub);
  const seed = typeof user.email === 'string' ? user.email.toLowerCase() : JSON.stringify(user);
  return crypto.createHash('sha256').update(seed).digest('hex').slice(0, 21);
}

function staticClient(client) {
  return {
    client_id: client.client_id,
    client_secret: client.client_secret,
    redirect_uris: client.redirect_uris,
    token_endpoint_auth_method: client.token_endpoint_auth_method ?? 'client_secret_basic',
    // A gate client registered with `refresh: true` gets refresh tokens (revalidation).
    grant_types: serviceMode || client.refresh ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
    response_types: ['code'],
  };
}

function buildProfile(profile) {
  const policy = interactionPolicy.base();
  // OIDC Core 1.0 §3.1.2.1: Google's `prompt=select_account` must not be refused.
  policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);
  const profileIssuer = issuer + profile.path + (profile.trailingSlash ? '/' : '');
  const claims = profile.name === 'google'
    ? { openid: ['sub'], email: ['email', 'email_verified', 'hd'], profile: ['name'] }
    : { openid: ['sub', ...RELEASED_CLAIMS] };

  const provider = new Provider(profileIssuer, {
    clients: [...clients.values()].map(staticClient),
    jwks: { keys: signingKeys },
    cookies: { keys: [cookieKey] },
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'profile'],
    claims,
    // Like Google: the scope's claims go in the ID token, not only in userinfo.
    conformIdTokenClaims: false,
    // RFC 7009 revocation: a test ends a user's upstream grant as an IdP admin would.
    features: { devInteractions: { enabled: false }, revocation: { enabled: true } },
    interactions: {
      policy,
      url: (_ctx, interaction) => `${profile.path}/interaction/${interaction.uid}`,
    },
    async findAccount(_ctx, sub) {
      const claims = accounts.get(sub);
      if (!claims) return undefined;
      return { accountId: sub, async claims() { return { sub, ...claims }; } };
    },
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 60,
      IdToken: 3600,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
    },
    async renderError(ctx, out) {
      ctx.type = 'json';
      ctx.body = out;
    },
    issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
    rotateRefreshToken: () => true,
  });
  return { path: profile.path, provider, handle: provider.callback() };
}

function buildProvider() {
  return PROFILES.map(buildProfile);
}

let current = buildProvider();

// The profile a path belongs to: the longest mount path it is under (the root last).
function profileOf(path) {
  return current.find((p) => p.path && (path === p.path || path.startsWith(`${p.path}/`)))
    ?? current.find((p) => !p.path);
}

async function completeInteraction(req, res, provider) {
  const details = await provider.interactionDetails(req, res);
  if (details.prompt.name === 'consent') {
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: details.session.accountId, clientId: details.params.client_id });
    grant.addOIDCScope(String(details.params.scope));
    const missingClaims = details.prompt.details.missingOIDCClaims;
    if (missingClaims) grant.addOIDCClaims(missingClaims);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    return;
  }
  // login or select_account: the configured next user signs in.
  const sub = subjectOf(nextUser);
  const { sub: _ignored, ...claims } = nextUser;
  accounts.set(sub, claims);
  await provider.interactionFinished(
    req,
    res,
    { select_account: {}, login: { accountId: sub } },
    { mergeWithLastSubmission: false },
  );
}

async function readJson(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const text = Buffer.concat(chunks).toString('utf8');
  return text ? JSON.parse(text) : {};
}

function reply(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

async function handleTestControl(req, res, path) {
  if (req.method !== 'POST') return reply(res, 405, { error: 'POST only' });
  const body = await readJson(req);
  switch (path) {
    case '/test/users':
      if (body.claims && typeof body.claims === 'object') {
        nextUser = { ...body.claims };
        return reply(res, 200, { sub: subjectOf(nextUser) });
      }
      if (typeof body.email !== 'string') return reply(res, 400, { error: 'email is required' });
      nextUser = { email_verified: true, ...body };
      return reply(res, 200, { sub: subjectOf(nextUser) });
    case '/test/clients':
      if (typeof body.client_id !== 'string' || !Array.isArray(body.redirect_uris)) {
        return reply(res, 400, { error: 'client_id and redirect_uris are required' });
      }
      clients.set(body.client_id, body);
      current = buildProvider();
      return reply(res, 200, { client_id: body.client_id });
    case '/test/rotate-keys': {
      const key = newSigningKey();
      signingKeys = [key, ...signingKeys];
      current = buildProvider();
      return reply(res, 200, { kid: key.kid });
    }
    case '/test/accounts':
      // The IdP's record of a user changes (a new address, other groups): what a refresh
      // of an upstream token issued before now answers with.
      if (typeof body.sub !== 'string' || typeof body.claims !== 'object') {
        return reply(res, 400, { error: 'sub and claims are required' });
      }
      // claims: null deletes the account, as an admin removing the user.
      if (body.claims === null) accounts.delete(body.sub);
      else accounts.set(body.sub, { ...body.claims });
      return reply(res, 200, { sub: body.sub });
    case '/test/reset':
      nextUser = { ...DEFAULT_USER };
      return reply(res, 200, {});
    default:
      return reply(res, 404, { error: 'unknown test control' });
  }
}

const server = http.createServer((req, res) => {
  const path = new URL(req.url, issuer).pathname;
  let work;
  if (path.startsWith('/test/')) {
    work = handleTestControl(req, res, path);
  } else {
    const profile = profileOf(path);
    // Mounted as express mounts it: the provider sees the path below its mount point and
    // finds the mount point from originalUrl (oidc-provider's documented mounting).
    req.originalUrl = req.url;
    req.url = req.url.slice(profile.path.length) || '/';
    if (req.url.startsWith('?')) req.url = `/${req.url}`;
    if (new URL(req.url, issuer).pathname.startsWith('/interaction/')) {
      work = completeInteraction(req, res, profile.provider);
    } else {
      profile.handle(req, res);
      return;
    }
  }
  work.catch((error) => {
    console.error(error);
    if (!res.headersSent) reply(res, 500, { error: String(error.message ?? error) });
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`oidc provider listening at ${issuer} (${PROFILES.map((p) => p.name).join(', ')})`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
