import { describe, expect, it } from 'vitest';
import { describeError, SERVER_DOWN } from './errors';

describe('describeError', () => {
  it('says the server is down for network failures and gateway errors', () => {
    expect(describeError({ status: 'FETCH_ERROR', error: 'TypeError: Failed to fetch' })).toBe(SERVER_DOWN);
    expect(describeError({ status: 'TIMEOUT_ERROR', error: 'timeout' })).toBe(SERVER_DOWN);
    expect(describeError({ status: 502, data: 'Bad gateway' })).toBe(SERVER_DOWN);
    expect(describeError({ status: 'PARSING_ERROR', originalStatus: 503, data: '<html>', error: 'x' })).toBe(SERVER_DOWN);
  });

  it('names the auth failures', () => {
    expect(describeError({ status: 409, data: { detail: 'username taken' } }, 'signup')).toBe(
      'That username is taken. Choose another one, or log in.',
    );
    expect(describeError({ status: 401, data: { detail: 'wrong username or password' } }, 'login')).toBe(
      'Wrong username or password.',
    );
    expect(
      describeError(
        { status: 422, data: { detail: [{ loc: ['body', 'password'], msg: 'a password is 8 to 1024 characters', type: 'invalid_input' }] } },
        'signup',
      ),
    ).toBe('Password must be 8 to 1024 characters long.');
    expect(
      describeError({ status: 422, data: { detail: [{ loc: ['body', 'password'], msg: 'too short', type: 'string_too_short' }] } }),
    ).toBe('Password must be at least 8 characters.');
    expect(describeError({ status: 429, data: { detail: 'x' }, retryAfter: 30 }, 'login')).toBe(
      'Too many attempts. Wait 30 seconds and try again.',
    );
  });

  it('passes on the server reason for conflicts, as a sentence', () => {
    expect(describeError({ status: 409, data: { detail: 'swarm is already running; only a draft can be spawned' } })).toBe(
      'Swarm is already running; only a draft can be spawned.',
    );
  });
});
