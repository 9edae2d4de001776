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
// Test controls, JSON over HTTP on the same port (loopback only, no auth: a test tool):
//   POST /test/users        {email, email_verified, hd?, name?, sub?}: the user of every
//                           login from now on
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
  return crypto.createHash('sha256').update(user.email.toLowerCase()).digest('hex').slice(0, 21);
}

function staticClient(client) {
  return {
    client_id: client.client_id,
    client_secret: client.client_secret,
    redirect_uris: client.redirect_uris,
    token_endpoint_auth_method: client.token_endpoint_auth_method ?? 'client_secret_basic',
    grant_types: serviceMode ? ['authorization_code', 'refresh_token'] : ['authorization_code'],
    response_types: ['code'],
  };
}

function buildProvider() {
  const policy = interactionPolicy.base();
  // OIDC Core 1.0 §3.1.2.1: Google's `prompt=select_account` must not be refused.
  policy.add(new interactionPolicy.Prompt({ name: 'select_account', requestable: true }), 0);

  const provider = new Provider(issuer, {
    clients: [...clients.values()].map(staticClient),
    jwks: { keys: signingKeys },
    cookies: { keys: [cookieKey] },
    pkce: { required: () => true },
    scopes: ['openid', 'email', 'profile'],
    claims: { openid: ['sub'], email: ['email', 'email_verified', 'hd'], profile: ['name'] },
    // Like Google: the scope's claims go in the ID token, not only in userinfo.
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    interactions: { policy, url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
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
    ...(serviceMode
      ? {
          issueRefreshToken: async (_ctx, client) => client.grantTypeAllowed('refresh_token'),
          rotateRefreshToken: () => true,
        }
      : {}),
  });
  return { provider, handle: provider.callback() };
}

let current = buildProvider();

async function completeInteraction(req, res) {
  const { provider } = current;
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
  } else if (path.startsWith('/interaction/')) {
    work = completeInteraction(req, res);
  } else {
    current.handle(req, res);
    return;
  }
  work.catch((error) => {
    console.error(error);
    if (!res.headersSent) reply(res, 500, { error: String(error.message ?? error) });
  });
});

server.listen(port, '127.0.0.1', () => {
  console.log(`oidc provider listening at ${issuer}`);
});

for (const signal of ['SIGTERM', 'SIGINT']) {
  process.on(signal, () => process.exit(0));
}
