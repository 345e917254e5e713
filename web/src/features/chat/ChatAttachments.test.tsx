import { cleanup, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { json, mountChatPage, question } from './chatTestBed';

function renderChat(onPost: (form: FormData | null, text: string) => Response) {
  return mountChatPage(async (input) => {
    const multipart = (input.headers.get('content-type') ?? '').startsWith('multipart/form-data');
    return multipart ? onPost(await input.formData(), '') : onPost(null, await input.text());
  }).fetchMock;
}

afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
  sessionStorage.clear();
});

describe('attaching files in the chat', () => {
  it('picks files, removes one, sends the rest as multipart and shows what the server stored', async () => {
    // (jsdom's File loses its name and bytes on the way through undici's Request, so the parts are told apart by
    // their types here; the end-to-end test in Chromium checks the bytes)
    const sent: { content: FormDataEntryValue | null; files: string[] }[] = [];
    renderChat((form) => {
      sent.push({ content: form?.get('content') ?? null, files: (form?.getAll('file') as File[] | undefined)?.map((f) => f.type) ?? [] });
      return json({
        ...question, id: 'm-user', index: 1, role: 'user', content: 'see these',
        attachments: [{ path: 'uploads/a.png', name: 'a.png', content_type: 'image/png', size: 3, sha256: 'c'.repeat(64), seq: 12 }],
      });
    });
    const user = userEvent.setup();
    await screen.findByLabelText('Your reply');
    const input = screen.getByTestId('attach-input') as HTMLInputElement;
    await user.upload(input, [new File(['png'], 'a.png', { type: 'image/png' }), new File(['t'], 'b.txt', { type: 'text/plain' })]);
    const picked = screen.getAllByTestId('picked-file');
    expect(picked.map((p) => p.textContent)).toEqual([expect.stringContaining('a.png'), expect.stringContaining('b.txt')]);
    await user.click(screen.getByRole('button', { name: 'Remove b.txt' }));
    expect(screen.getAllByTestId('picked-file')).toHaveLength(1);
    await user.type(screen.getByLabelText('Your reply'), 'see these{Enter}');
    await waitFor(() => expect(sent).toEqual([{ content: 'see these', files: ['image/png'] }]));
    await waitFor(() => expect(screen.getAllByTestId('message')).toHaveLength(2));
    const mine = screen.getAllByTestId('message')[1]!;
    expect(within(mine).getByRole('img', { name: 'a.png' }).getAttribute('src')).toContain('uploads/a.png?at=12');
    expect(screen.queryByTestId('picked-file')).toBeNull();
  });

  it('sends files alone (no text); a refused file keeps the message for a retry with its files', async () => {
    let refuse = true;
    const calls: string[][] = [];
    renderChat((form) => {
      calls.push((form?.getAll('file') as File[] | undefined)?.map((f) => f.type) ?? []);
      if (refuse) {
        refuse = false;
        return json({ detail: "'x.txt' is over the limit of 10 bytes a file" }, 413);
      }
      return json({ ...question, id: 'm-user', index: 1, role: 'user', content: '', attachments: [] });
    });
    const user = userEvent.setup();
    await screen.findByLabelText('Your reply');
    const send = screen.getByRole('button', { name: 'Send' }) as HTMLButtonElement;
    expect(send.disabled).toBe(true);
    await user.upload(screen.getByTestId('attach-input') as HTMLInputElement, new File(['0123456789abc'], 'x.txt', { type: 'text/plain' }));
    expect(send.disabled).toBe(false);
    await user.click(send);
    const pending = await screen.findByTestId('pending-message');
    await waitFor(() => expect(pending.getAttribute('data-status')).toBe('failed'));
    expect(within(pending).getByRole('alert').textContent).toContain('over the limit');
    expect(pending.textContent).toContain('Files: x.txt');
    await user.click(within(pending).getByRole('button', { name: 'Retry' }));
    await waitFor(() => expect(screen.queryByTestId('pending-message')).toBeNull());
    expect(calls).toEqual([['text/plain'], ['text/plain']]);
  });
});
