// The REST calls the page makes, over fetch, with one error type.

export class ApiError extends Error {
  /** status 0 means the server could not be reached at all. */
  constructor(status, problem, retryAfter = 0) {
    super(problem);
    this.status = status;
    this.retryAfter = retryAfter; // seconds, on a 429
  }

  get missing() { return this.status === 404; }
  get denied() { return this.status === 401 || this.status === 403; }
}

export class Api {
  constructor() {
    this.token = null;
  }

  async request(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let response;
    try {
      response = await fetch(path, {
        method, headers, cache: "no-store",
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    } catch {
      throw new ApiError(0, "the server cannot be reached");
    }
    const data = await response.json().catch(() => null);
    if (!response.ok) {
      const problem = (data && data.error) || response.statusText || `HTTP ${response.status}`;
      const wait = Number(response.headers.get("Retry-After") || (data && data.retryAfter));
      throw new ApiError(response.status, problem, Number.isFinite(wait) ? wait : 0);
    }
    return data;
  }

  get(path) { return this.request("GET", path); }
  post(path, body) { return this.request("POST", path, body); }
  delete(path) { return this.request("DELETE", path); }

  // --- the messaging routes the page uses ---------------------------------------------

  currentConversation(churchId, contentType, contentId) {
    const parts = [churchId, contentType, contentId].map(encodeURIComponent).join("/");
    return this.get(`/messaging/conversations/current/${parts}`);
  }

  catchup(churchId, conversationId, afterId) {
    const query = afterId ? `?after=${encodeURIComponent(afterId)}` : "";
    return this.get(`/messaging/messages/catchup/${encodeURIComponent(churchId)}/` +
      `${encodeURIComponent(conversationId)}${query}`);
  }

  join(entries) { return this.post("/messaging/connections", entries); }
  setName(socketId, name) { return this.post("/messaging/connections/setName", { socketId, name }); }
  send(entries) { return this.post("/messaging/messages/send", entries); }
  deleteMessage(id) { return this.delete(`/messaging/messages/${encodeURIComponent(id)}`); }
  toggleBlock(entries) { return this.post("/messaging/blockedIps", entries); }

  roomSettingsPath(churchId, conversationId) {
    return `/messaging/conversations/${encodeURIComponent(churchId)}/` +
      `${encodeURIComponent(conversationId)}/settings`;
  }

  roomSettings(churchId, conversationId) {
    return this.get(this.roomSettingsPath(churchId, conversationId));
  }

  setSlowMode(churchId, conversationId, seconds) {
    return this.post(this.roomSettingsPath(churchId, conversationId),
      { slowModeSeconds: seconds });
  }

  hostRoom(serviceId) {
    return this.get(`/content/streamingServices/${encodeURIComponent(serviceId)}/hostChat`);
  }
}
