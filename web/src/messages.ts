/** The page's message list: keyed notices that replace each other, dismissable, mirrored in page.status. */
import { el, type MsgKind, page } from './page.js';

/** Shows (or replaces) the message with this key; the rest of the page keeps working. */
export function say(key: string, kind: MsgKind, text: string): void {
  page.messages.set(key, { key, kind, text });
  renderMessages();
}

export function unsay(key: string): void {
  if (page.messages.delete(key)) renderMessages();
}

function renderMessages(): void {
  el.messagesBox.replaceChildren(
    ...[...page.messages.values()].map((m) => {
      const div = document.createElement('div');
      div.className = `msg ${m.kind}`;
      div.dataset.key = m.key;
      div.setAttribute('role', m.kind === 'error' ? 'alert' : 'status');
      const span = document.createElement('span');
      span.textContent = m.text;
      const close = document.createElement('button');
      close.type = 'button';
      close.title = 'Dismiss';
      close.textContent = '×';
      close.onclick = () => unsay(m.key);
      div.append(span, close);
      return div;
    }),
  );
  page.status.messages = [...page.messages.values()].map(({ key, kind, text }) => ({ key, kind, text }));
}
