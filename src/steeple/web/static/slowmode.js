// Slow mode on the page: the notice viewers see, the send button's countdown after a
// post, and the hosts' switch. The server enforces slow mode; this only shows it, so a
// viewer knows why and for how long the button waits. Text goes in as text.

export const SLOW_MODE_CHOICES = [0, 5, 10, 30, 60];

export function slowModeText(seconds) {
  return seconds > 0 ? `Slow mode: one message every ${seconds} s` : "";
}

export class SlowModeView {
  constructor({ notice, button, countdown, control, select, onChoose }) {
    this.notice = notice;
    this.button = button;
    this.countdown = countdown;
    this.control = control;
    this.select = select;
    this.deadline = 0;
    this.timer = null;
    this.held = false; // the button is disabled for another reason (a blocked viewer)
    this.fillChoices();
    select.addEventListener("change", () => onChoose(Number(select.value)));
  }

  fillChoices() {
    const options = SLOW_MODE_CHOICES.map((seconds) => {
      const option = document.createElement("option");
      option.value = String(seconds);
      option.textContent = seconds ? `${seconds} s` : "Off";
      return option;
    });
    this.select.replaceChildren(...options);
  }

  /** Show the room's slow mode; ``host`` shows the switch, and a host never waits. */
  render(seconds, { host }) {
    const text = slowModeText(seconds);
    this.notice.textContent = host && text ? `${text} (hosts are exempt)` : text;
    this.notice.hidden = !text;
    this.control.hidden = !host;
    if (host) this.showChoice(seconds);
    if (host || !seconds) this.stop();
  }

  showChoice(seconds) {
    if (!SLOW_MODE_CHOICES.includes(seconds)) {
      const option = document.createElement("option");
      option.value = String(seconds);
      option.textContent = `${seconds} s`;
      this.select.append(option); // set elsewhere (another tool, the API) to another value
    }
    this.select.value = String(seconds);
  }

  /** Count the send button down for ``seconds`` (after a post, or as a 429 said). */
  wait(seconds) {
    if (!(seconds > 0)) return;
    this.deadline = Math.max(this.deadline, Date.now() + seconds * 1000);
    clearInterval(this.timer);
    this.timer = setInterval(() => this.tick(), 250);
    this.tick();
  }

  get waiting() { return this.remaining() > 0; }

  remaining() {
    return Math.max(0, Math.ceil((this.deadline - Date.now()) / 1000));
  }

  tick() {
    const left = this.remaining();
    if (!left) {
      this.stop();
      return;
    }
    this.countdown.textContent = String(left);
    this.countdown.hidden = false;
    this.button.classList.add("waiting");
    this.button.disabled = true;
    this.button.setAttribute("aria-label", `Send (wait ${left} s)`);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
    this.deadline = 0;
    this.countdown.hidden = true;
    this.countdown.textContent = "";
    this.button.classList.remove("waiting");
    this.button.disabled = this.held;
    this.button.setAttribute("aria-label", "Send");
  }

  /** Disable or re-enable the button for reasons of the page's own (a block). */
  hold(held) {
    this.held = held;
    this.button.disabled = held || this.waiting;
  }
}
