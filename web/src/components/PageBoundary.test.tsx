import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Suspense } from 'react';
import { MemoryRouter } from 'react-router';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { lazyPage } from '../lib/lazyPage';
import Markdown from './Markdown';
import PageBoundary from './PageBoundary';

afterEach(cleanup);

function Page() {
  return <p>The page loaded.</p>;
}

describe('error boundaries', () => {
  it('a page whose bundle fails to load says so, and Try again loads it', async () => {
    let fail = true;
    const load = vi.fn(async () => {
      if (fail) throw new TypeError('Failed to fetch dynamically imported module: /assets/TreePage-x.js');
      return { default: Page };
    });
    const Lazy = lazyPage(load);
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    render(
      <MemoryRouter>
        <p>The rest of the app.</p>
        <PageBoundary what="tree view">
          <Suspense fallback={<p>Loading…</p>}>
            <Lazy />
          </Suspense>
        </PageBoundary>
      </MemoryRouter>,
    );
    expect(await screen.findByRole('heading', { name: 'The tree view could not be loaded.' })).toBeTruthy();
    expect(screen.getByText('The rest of the app.')).toBeTruthy();
    fail = false;
    await userEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(await screen.findByText('The page loaded.')).toBeTruthy();
    expect(load).toHaveBeenCalledTimes(2);
    quiet.mockRestore();
  });

  it('a page that throws while rendering shows the error in place of that page only', async () => {
    function Broken(): never {
      throw new Error('boom');
    }
    const quiet = vi.spyOn(console, 'error').mockImplementation(() => {});
    render(
      <MemoryRouter>
        <p>The header.</p>
        <PageBoundary what="chat">
          <Broken />
        </PageBoundary>
      </MemoryRouter>,
    );
    expect(screen.getByRole('heading', { name: 'The chat hit an error.' })).toBeTruthy();
    expect(screen.getByText('The header.')).toBeTruthy();
    quiet.mockRestore();
  });

  it('a message that cannot be rendered shows as plain text, alone', async () => {
    render(
      <ol>
        <li>
          <Markdown>{'> '.repeat(3000) + 'a'}</Markdown>
        </li>
        <li>
          <Markdown>{'**fine**'}</Markdown>
        </li>
      </ol>,
    );
    expect((await screen.findByText('fine', undefined, { timeout: 10_000 })).tagName).toBe('STRONG');
    expect(document.body.textContent).toContain('> > > a');
  });
});
