/**
 * Tenant and roles from a token's claims (the gateway's verifier, and the web app reading its own token back), where the operator says they are (AUTH_TENANT_CLAIM,
 * AUTH_ROLES_CLAIM). A name may be a dotted path into nested claims, as identity providers nest
 * them (Keycloak: `realm_access.roles`); a claim literally named with dots (Auth0's namespaced
 * `https://parley.example.com/tenant`) is found first, by its full name. Imports nothing, so the web app
 * takes it (`@parley/contracts/claims`) without the schemas.
 */
export function claimAt(claims: Record<string, unknown>, name: string): unknown {
  if (Object.hasOwn(claims, name)) return claims[name];
  let at: unknown = claims;
  for (const part of name.split('.')) {
    if (typeof at !== 'object' || at === null || Array.isArray(at) || !Object.hasOwn(at, part)) return undefined;
    at = (at as Record<string, unknown>)[part];
  }
  return at;
}

/** Roles as an array of strings, or a space/comma separated string; anything else is no roles. */
export function rolesIn(value: unknown): string[] {
  if (Array.isArray(value)) return value.filter((r): r is string => typeof r === 'string');
  if (typeof value === 'string') return value.split(/[\s,]+/).filter(Boolean);
  return [];
}
