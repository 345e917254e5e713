// Turning API failures into sentences a person can act on.
import type { ApiError } from './http';

export const SERVER_DOWN = "Can't reach the AGA Swarm server. Check that it is running, then try again.";

interface FieldError {
  loc?: (string | number)[];
  msg?: string;
  type?: string;
  ctx?: Record<string, unknown>;
}

function isApiError(e: unknown): e is ApiError {
  return typeof e === 'object' && e !== null && 'status' in e;
}

function detailOf(e: ApiError): unknown {
  const data = (e as { data?: unknown }).data;
  return typeof data === 'object' && data !== null && 'detail' in data ? (data as { detail: unknown }).detail : undefined;
}

function sentence(s: string): string {
  const t = s.trim();
  if (!t) return t;
  const cap = t[0]!.toUpperCase() + t.slice(1);
  return /[.!?]$/.test(cap) ? cap : `${cap}.`;
}

function fieldMessage(f: FieldError): string {
  const field = String(f.loc?.[f.loc.length - 1] ?? '');
  if (field === 'password') {
    const nums = (f.msg ?? '').match(/\d+/g);
    if (f.type === 'string_too_short' || nums) {
      const min = (f.ctx?.min_length as number | undefined) ?? Number(nums?.[0] ?? 8);
      return nums && nums.length > 1
        ? `Password must be ${nums[0]} to ${nums[1]} characters long.`
        : `Password must be at least ${min} characters.`;
    }
  }
  if (field === 'username') {
    return 'Username must be 3–32 characters: letters, digits, dots, dashes or underscores.';
  }
  return sentence(field ? `${field.replace(/_/g, ' ')}: ${f.msg ?? 'invalid'}` : (f.msg ?? 'Invalid input'));
}

/** Is this failure the server being unreachable (as opposed to refusing)? */
export function isServerDown(e: unknown): boolean {
  if (!isApiError(e)) return false;
  if (e.status === 'FETCH_ERROR' || e.status === 'TIMEOUT_ERROR') return true;
  if (e.status === 'PARSING_ERROR') return (e.originalStatus ?? 0) >= 500 || e.originalStatus === 0;
  return e.status === 502 || e.status === 503 || e.status === 504;
}

export type ErrorContext = 'login' | 'signup' | 'generic';

export function describeError(e: unknown, context: ErrorContext = 'generic'): string {
  if (!isApiError(e)) return e instanceof Error ? sentence(e.message) : 'Something went wrong. Try again.';
  if (isServerDown(e)) return SERVER_DOWN;
  const detail = detailOf(e);
  if (context === 'signup' && e.status === 409) return 'That username is taken. Choose another one, or log in.';
  if (context === 'login' && e.status === 401) return 'Wrong username or password.';
  if (e.status === 429) {
    const wait = e.retryAfter ? ` Wait ${e.retryAfter} seconds and try again.` : ' Wait a minute and try again.';
    return `Too many attempts.${wait}`;
  }
  if (e.status === 401) return 'Your session has expired. Log in again.';
  if (Array.isArray(detail)) {
    const msgs = [...new Set((detail as FieldError[]).map(fieldMessage))];
    return msgs.join(' ');
  }
  if (typeof detail === 'string' && detail) return sentence(detail);
  if (typeof e.status === 'number' && e.status >= 500) return 'The server hit an error. Try again in a moment.';
  if (e.status === 404) return 'Not found. It may have been deleted.';
  return 'Something went wrong. Try again.';
}
