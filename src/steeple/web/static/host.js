// A host's sign-in: a Chat__Host token pasted or passed as `#token=...`. The token
// lives in sessionStorage (this tab only) and is removed from the address bar at once,
// so it is not bookmarked, shared or sent as a referrer.

const KEY = "steeple.hostToken";

/** The payload of a JWT, for display only: the server checks the signature. */
export function tokenClaims(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const padded = part + "=".repeat((4 - (part.length % 4)) % 4);
    const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
    const claims = JSON.parse(new TextDecoder().decode(bytes));
    return claims && typeof claims === "object" ? claims : null;
  } catch {
    return null;
  }
}

export class HostSession {
  constructor(storage = window.sessionStorage) {
    this.storage = storage;
    this.token = null;
    this.claims = null;
  }

  /** Take a token from the URL fragment (and scrub it) or from this tab's storage. */
  restore(location, history) {
    const fragment = new URLSearchParams(location.hash.replace(/^#/, ""));
    const fromUrl = fragment.get("token");
    if (fromUrl) {
      history.replaceState(null, "", location.pathname + location.search);
      return this.signIn(fromUrl);
    }
    const stored = this.storage.getItem(KEY);
    return stored ? this.signIn(stored) : false;
  }

  signIn(token) {
    const trimmed = (token || "").trim();
    const claims = tokenClaims(trimmed);
    if (!claims) return false;
    this.token = trimmed;
    this.claims = claims;
    this.storage.setItem(KEY, trimmed);
    return true;
  }

  signOut() {
    this.token = null;
    this.claims = null;
    this.storage.removeItem(KEY);
  }

  get signedIn() { return Boolean(this.token); }

  get displayName() {
    if (!this.claims) return "";
    return [this.claims.firstName, this.claims.lastName].filter(Boolean).join(" ").trim();
  }

  get churchId() { return this.claims ? String(this.claims.churchId || "") : ""; }

  /** Does the token claim to host this church (slow mode's switch and exemption)?
   * For display only: the server decides what the token may do. */
  canHost(churchId) {
    const permissions = Array.isArray(this.claims && this.claims.permissions)
      ? this.claims.permissions : [];
    return this.signedIn && this.churchId === churchId &&
      (permissions.includes("Chat__Host") || permissions.includes("Content__Edit"));
  }
}
