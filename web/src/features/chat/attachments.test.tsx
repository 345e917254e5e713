import { cleanup, render, screen, within } from '@testing-library/react';
import { afterEach, describe, expect, it } from 'vitest';
import { messageBody, swarmBody } from '../../api/http';
import { isThumbnail, pastedFiles } from './attachments';
import AttachmentList from './AttachmentList';

afterEach(cleanup);

const image = { path: 'uploads/cat.png', name: 'cat.png', content_type: 'image/png', size: 2048, sha256: 'a'.repeat(64), seq: 7 };
const text = { path: 'uploads/notes/plan v2.md', name: 'plan v2.md', content_type: 'text/markdown', size: 12, sha256: 'b'.repeat(64), seq: 9 };

describe('attachments in a message', () => {
  it('shows an image as a thumbnail of the version it carried and other files as chips with a download link', () => {
    render(<AttachmentList swarmId="s1" attachments={[image, text]} />);
    const items = screen.getAllByTestId("attachment") as [HTMLElement, HTMLElement];
    expect(items).toHaveLength(2);
    const img = within(items[0]).getByRole('img', { name: 'cat.png' }) as HTMLImageElement;
    expect(img.getAttribute('src')).toBe('/api/swarms/s1/memory/uploads/cat.png?at=7');
    expect(within(items[0]).getByRole('link', { name: 'Download cat.png' }).getAttribute('href')).toBe(
      '/api/swarms/s1/memory/uploads/cat.png?at=7&download=true',
    );
    expect(items[0].textContent).toContain('2.0 KB');
    expect(within(items[1]).queryByRole('img')).toBeNull();
    const link = within(items[1]).getByRole('link', { name: 'Download plan v2.md' });
    expect(link.getAttribute('href')).toBe('/api/swarms/s1/memory/uploads/notes/plan%20v2.md?at=9&download=true');
    expect(link.getAttribute('download')).toBe('plan v2.md');
    expect(items[1].textContent).toContain('12 B');
  });

  it('shows nothing for a message without files, and no thumbnail for SVG', () => {
    const { container } = render(<AttachmentList swarmId="s1" attachments={[]} />);
    expect(container.innerHTML).toBe('');
    expect(isThumbnail({ content_type: 'image/svg+xml' })).toBe(false);
    expect(isThumbnail({ content_type: 'image/webp' })).toBe(true);
  });
});

describe('sending files', () => {
  it('sends JSON for text alone and multipart with content and file parts for files', () => {
    expect(messageBody('hi')).toEqual({ content: 'hi' });
    expect(messageBody('hi', [])).toEqual({ content: 'hi' });
    const f = new File(['x'], 'a.txt', { type: 'text/plain' });
    const body = messageBody('', [f, new File(['y'], 'b.png', { type: 'image/png' })]);
    expect(body).toBeInstanceOf(FormData);
    const form = body as FormData;
    expect(form.get('content')).toBe('');
    expect((form.getAll('file') as File[]).map((x) => x.name)).toEqual(['a.txt', 'b.png']);
  });

  it("sends a new swarm's goal as JSON, or as multipart with its files", () => {
    expect(swarmBody({ goal: 'g', config: 'local' })).toEqual({ goal: 'g', config: 'local' });
    const form = swarmBody({ goal: 'g', name: null, config: 'local' }, [new File(['x'], 'a.md')]) as FormData;
    expect([form.get('goal'), form.get('name'), form.get('config'), form.getAll('file').length]).toEqual(['g', null, 'local', 1]);
  });

  it('names a pasted image that came without a name, and ignores pasted text', () => {
    const shot = new File(['png'], '', { type: 'image/png' });
    const items = [
      { kind: 'string', getAsFile: () => null },
      { kind: 'file', getAsFile: () => shot },
    ];
    const files = pastedFiles({ items } as unknown as DataTransfer);
    expect(files.map((f) => [f.name, f.type])).toEqual([['pasted-1.png', 'image/png']]);
    expect(pastedFiles(null)).toEqual([]);
  });
});
