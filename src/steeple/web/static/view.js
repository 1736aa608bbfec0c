// Rendering. Every piece of text from the network goes in through textContent, never
// as markup, so a message like `<script>` is shown, not run.

const GROUP_WINDOW_MS = 5 * 60 * 1000;
const SVG = "http://www.w3.org/2000/svg";

export function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined && text !== null) node.textContent = String(text);
  return node;
}

export function initials(name) {
  const words = String(name || "?").trim().split(/[\s_]+/).filter(Boolean);
  const letters = words.slice(0, 2).map((w) => Array.from(w)[0].toUpperCase());
  return letters.join("") || "?";
}

export function hue(name) {
  let hash = 0;
  for (const ch of String(name || "")) hash = (hash * 31 + ch.codePointAt(0)) % 360;
  return hash;
}

export function formatTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleTimeString([], { hour: "numeric", minute: "2-digit" });
}

export function avatar(name, className = "avatar") {
  const node = element("span", className, initials(name));
  node.style.setProperty("--hue", String(hue(name)));
  node.setAttribute("aria-hidden", "true");
  return node;
}

function trashIcon() {
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  const path = document.createElementNS(SVG, "path");
  path.setAttribute("d", "M9 3h6l1 2h4v2H4V5h4l1-2zm-3 6h12l-1 12H7L6 9z");
  svg.append(path);
  return svg;
}

/** The <ol> of one room's messages, updated incrementally from room events. */
export class MessageList {
  constructor(list, scroller, { isMine, onDelete, onNewBelow }) {
    this.list = list;
    this.scroller = scroller;
    this.isMine = isMine;
    this.onDelete = onDelete;
    this.onNewBelow = onNewBelow;
  }

  handle(event) {
    if (event.type === "add") this.add(event.message, event.beforeId);
    else if (event.type === "update") this.update(event.message);
    else if (event.type === "remove") this.remove(event.id);
  }

  find(id) {
    for (const node of this.list.children) if (node.dataset.id === id) return node;
    return null;
  }

  add(message, beforeId) {
    const stick = this.nearBottom();
    const node = this.render(message);
    const before = beforeId ? this.find(beforeId) : null;
    this.list.insertBefore(node, before);
    this.regroup(node);
    this.regroup(node.nextElementSibling);
    if (this.list.hidden) return;
    if (stick || node.classList.contains("mine")) this.scrollToBottom();
    else if (!before) this.onNewBelow();
  }

  update(message) {
    const node = this.find(message.id);
    if (!node) return;
    node.querySelector(".text").textContent = message.content;
    node.classList.toggle("edited", Boolean(message.timeUpdated));
  }

  remove(id) {
    const node = this.find(id);
    if (!node) return;
    const next = node.nextElementSibling;
    node.remove();
    this.regroup(next);
  }

  render(message) {
    const name = message.displayName || "Anonymous";
    const node = element("li", "msg");
    node.dataset.id = message.id;
    node.dataset.name = name;
    node.dataset.time = message.timeSent || "";
    if (this.isMine(message)) node.classList.add("mine");
    if (message.timeUpdated) node.classList.add("edited");

    const bubble = element("div", "bubble");
    const meta = element("div", "meta");
    meta.append(element("span", "name", name));
    const time = element("time", "", formatTime(message.timeSent));
    if (message.timeSent) time.dateTime = message.timeSent;
    meta.append(time);
    bubble.append(meta, element("p", "text", message.content));

    const remove = element("button", "delete");
    remove.type = "button";
    remove.title = "Delete message";
    remove.setAttribute("aria-label", "Delete message");
    remove.append(trashIcon());
    remove.addEventListener("click", () => this.onDelete(message.id));

    node.append(avatar(name), bubble, remove);
    return node;
  }

  /** Consecutive messages by one person within a few minutes share one header. */
  regroup(node) {
    if (!node) return;
    const previous = node.previousElementSibling;
    const gap = previous ? Date.parse(node.dataset.time) - Date.parse(previous.dataset.time) : NaN;
    const continued = Boolean(previous) && previous.dataset.name === node.dataset.name &&
      previous.classList.contains("mine") === node.classList.contains("mine") &&
      gap >= 0 && gap < GROUP_WINDOW_MS;
    node.classList.toggle("continued", continued);
  }

  nearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < 120;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
  }
}

/** "Watching now": one row per viewer; hosts get block / unblock buttons. */
export class ViewerPanel {
  constructor(list, more, { onBlock }) {
    this.list = list;
    this.more = more;
    this.onBlock = onBlock;
  }

  render(room, moderator) {
    const rows = room.viewers.map((viewer) => this.row(viewer, room, moderator));
    this.list.replaceChildren(...rows);
    const hidden = room.totalViewers - room.viewers.length;
    this.more.hidden = hidden <= 0;
    this.more.textContent = hidden > 0 ? `and ${hidden} more` : "";
  }

  row(viewer, room, moderator) {
    const name = viewer.displayName || "Anonymous";
    const row = element("li", "viewer");
    const label = element("span", "viewer-name", name);
    row.append(avatar(name, "avatar small"), label);
    const isMe = room.me && viewer.id === room.me.id;
    if (isMe) label.append(element("span", "you", " (you)"));
    const blocked = Boolean(viewer.ipAddress) && room.blocked.includes(viewer.ipAddress);
    if (blocked) row.append(element("span", "tag", "blocked"));
    if (moderator && !isMe && viewer.ipAddress) {
      const button = element("button", "ghost small", blocked ? "Unblock" : "Block");
      button.type = "button";
      button.addEventListener("click", () => this.onBlock(viewer, room));
      row.append(button);
    }
    return row;
  }
}

export class Toast {
  constructor(node) {
    this.node = node;
    this.timer = null;
  }

  show(text) {
    this.node.textContent = text;
    this.node.hidden = false;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.node.hidden = true; }, 4500);
  }
}
