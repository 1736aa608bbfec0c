// One conversation on the page: its messages (ordered by time, deduplicated by id),
// its viewers, its blocked addresses and its slow mode. It tells listeners what changed and knows
// nothing about the DOM.

export class ChatRoom {
  constructor(api, key, conversation) {
    this.api = api;
    this.key = key; // "public" or "host"
    this.churchId = conversation.churchId;
    this.id = conversation.id;
    this.messages = [];
    this.byId = new Map();
    this.loaded = false;
    this.viewers = [];
    this.totalViewers = 0;
    this.blocked = [];
    this.me = null; // this tab's connection row; its ipAddress is our pseudonym
    this.slowModeSeconds = 0;
    this.setSettings(conversation, false);
    this.listeners = [];
  }

  subscribe(fn) { this.listeners.push(fn); }

  emit(event) {
    for (const fn of this.listeners) fn(event, this);
  }

  matches(frame) {
    return frame.churchId === this.churchId && frame.conversationId === this.id;
  }

  /**
   * Join with a (new) socket, then load the newest page of history the first time
   * or, after a reconnect, every page of what was missed. The cursor is taken before
   * joining: live messages that arrive on the new socket must not hide the gap. An
   * empty room's cursor is its own id, which names no message: pages from the first.
   */
  async attach(socketId, displayName) {
    const after = this.loaded ? this.lastId() || this.id : null;
    const rows = await this.api.join([
      { churchId: this.churchId, conversationId: this.id, socketId, displayName },
    ]);
    this.me = (Array.isArray(rows) && rows[0]) || null;
    this.emit({ type: "blocked" });
    if (after === null) {
      const newest = await this.api.catchup(this.churchId, this.id, null);
      for (const message of newest || []) this.apply(message);
    } else {
      await this.catchUp(after);
    }
    this.loaded = true;
    this.emit({ type: "synced" });
  }

  /**
   * Every page after `after`. The server caps a page at its HISTORY_LIMIT, which the
   * page does not know, so it asks until a page comes back empty; a server that
   * ignores `after` answers the same page again, which ends the walk too.
   */
  async catchUp(after) {
    let cursor = after;
    for (;;) {
      const page = await this.api.catchup(this.churchId, this.id, cursor);
      if (!Array.isArray(page) || !page.length) return;
      const last = page[page.length - 1].id;
      if (last === cursor) return;
      for (const message of page) this.apply(message);
      cursor = last;
    }
  }

  lastId() {
    return this.messages.length ? this.messages[this.messages.length - 1].id : null;
  }

  /** A message from history, a frame or our own send: added once, edits merged. */
  apply(message) {
    if (!message || !message.id || message.conversationId !== this.id) return;
    const known = this.byId.get(message.id);
    if (known) {
      if (known.content === message.content && known.timeUpdated === message.timeUpdated) return;
      const merged = { ...known, ...message };
      this.messages[this.messages.indexOf(known)] = merged;
      this.byId.set(message.id, merged);
      this.emit({ type: "update", message: merged });
      return;
    }
    let index = this.messages.length;
    while (index > 0 && (this.messages[index - 1].timeSent || "") > (message.timeSent || "")) {
      index -= 1;
    }
    this.messages.splice(index, 0, message);
    this.byId.set(message.id, message);
    const next = this.messages[index + 1];
    this.emit({ type: "add", message, beforeId: next ? next.id : null });
  }

  remove(id) {
    const known = this.byId.get(id);
    if (!known) return;
    this.byId.delete(id);
    this.messages.splice(this.messages.indexOf(known), 1);
    this.emit({ type: "remove", id });
  }

  setAttendance(data) {
    this.viewers = Array.isArray(data && data.viewers) ? data.viewers : [];
    const total = data && Number.isInteger(data.totalViewers) ? data.totalViewers : null;
    this.totalViewers = total ?? this.viewers.length;
    this.emit({ type: "attendance" });
  }

  setBlocked(list) {
    this.blocked = Array.isArray(list) ? list.map(String) : [];
    this.emit({ type: "blocked" });
  }

  /** A roomSettings frame, a settings answer or the conversation itself. */
  setSettings(data, announce = true) {
    const seconds = Number(data && data.slowModeSeconds);
    const next = Number.isInteger(seconds) && seconds > 0 ? seconds : 0;
    if (next === this.slowModeSeconds) return;
    this.slowModeSeconds = next;
    if (announce) this.emit({ type: "settings" });
  }

  get amBlocked() {
    return Boolean(this.me && this.me.ipAddress && this.blocked.includes(this.me.ipAddress));
  }

  /** Post a message; the caller applies the saved copy (the frame may come first). */
  async send(content, displayName) {
    const saved = await this.api.send([
      { churchId: this.churchId, conversationId: this.id, content, displayName },
    ]);
    return Array.isArray(saved) ? saved : [];
  }
}
